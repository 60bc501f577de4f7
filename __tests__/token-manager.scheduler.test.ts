import { describe, expect, it } from '@jest/globals';
import { RefreshScheduler, type Scheduled, type TimerApi } from '../lib/manager/refresh-scheduler.js';
import { ManualClock } from './fixtures/manual-clock.js';

interface Item extends Scheduled {
  name: string;
}

const item = (name: string, dueAt: number): Item => ({ name, dueAt, heapIndex: -1 });

function setUp(onDue: (item: Item) => void = () => {}) {
  const clock = new ManualClock(0);
  const scheduler = new RefreshScheduler<Item>(onDue, { now: clock.now, timers: clock.timers });
  return { clock, scheduler };
}

describe('RefreshScheduler (the one timer behind every scheduled refresh)', () => {
  it('runs each item at its due time, in order, with one timer for all of them', () => {
    const fired: [string, number][] = [];
    const { clock, scheduler } = setUp((i) => fired.push([i.name, clock.now()]));
    for (const [name, at] of [['e', 50], ['a', 10], ['c', 30], ['b', 20], ['d', 40], ['a2', 10]] as const) scheduler.schedule(item(name, at));
    expect(scheduler.size).toBe(6);
    expect(scheduler.armed).toBe(true);
    expect(clock.live).toBe(1);
    clock.advance(100);
    expect(fired).toEqual([['a', 10], ['a2', 10], ['b', 20], ['c', 30], ['d', 40], ['e', 50]]);
    expect(clock.maxLive).toBe(1);
    expect(scheduler.size).toBe(0);
    expect(scheduler.armed).toBe(false);
    expect(clock.live).toBe(0);
  });

  it('moves an item scheduled again, and forgets a cancelled one', () => {
    const fired: string[] = [];
    const { clock, scheduler } = setUp((i) => fired.push(i.name));
    const a = item('a', 10);
    const b = item('b', 20);
    const c = item('c', 30);
    for (const i of [a, b, c]) scheduler.schedule(i);
    a.dueAt = 40;
    scheduler.schedule(a);
    scheduler.cancel(b);
    scheduler.cancel(b); // twice is harmless
    scheduler.cancel(item('never', 5));
    expect(scheduler.size).toBe(2);
    clock.advance(100);
    expect(fired).toEqual(['c', 'a']);
  });

  it('stop() cancels everything, disarms its timer, and ignores later items', () => {
    const fired: string[] = [];
    const { clock, scheduler } = setUp((i) => fired.push(i.name));
    scheduler.schedule(item('a', 10));
    scheduler.stop();
    scheduler.schedule(item('b', 20));
    expect(scheduler.size).toBe(0);
    expect(scheduler.armed).toBe(false);
    expect(clock.live).toBe(0);
    clock.advance(100);
    expect(fired).toEqual([]);
  });

  it('a timer that fires before the (injected) clock says the item is due waits at least 50 ms, never spinning', () => {
    const delays: number[] = [];
    let fire: (() => void) | undefined;
    const timers: TimerApi = {
      setTimeout: (callback, ms) => {
        delays.push(ms);
        fire = callback;
        return delays.length;
      },
      clearTimeout: () => {},
    };
    const scheduler = new RefreshScheduler<Item>(() => {}, { now: () => 1_000, timers });
    scheduler.schedule(item('a', 1_001));
    for (let i = 0; i < 3; i++) fire!();
    expect(delays).toEqual([1, 50, 50, 50]);
  });

  it('waits past the 24.8-day limit of setTimeout by re-arming', () => {
    const delays: number[] = [];
    const timers: TimerApi = { setTimeout: (_cb, ms) => delays.push(ms), clearTimeout: () => {} };
    const scheduler = new RefreshScheduler<Item>(() => {}, { now: () => 0, timers });
    scheduler.schedule(item('far', 40 * 24 * 3_600_000));
    expect(delays).toEqual([2 ** 31 - 1]);
  });

  it('unref()s its real timer, so that it never keeps a process alive', () => {
    const handles: NodeJS.Timeout[] = [];
    const timers: TimerApi = {
      setTimeout: (callback, ms) => {
        const handle = setTimeout(callback, ms);
        handles.push(handle);
        return handle;
      },
      clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
    };
    const scheduler = new RefreshScheduler<Item>(() => {}, { timers });
    scheduler.schedule(item('a', Date.now() + 3_600_000));
    expect(handles).toHaveLength(1);
    expect(handles[0]!.hasRef()).toBe(false);
    scheduler.stop();

    // With its default timers: an unref'd timer is not among the resources that keep the loop alive.
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const byDefault = new RefreshScheduler<Item>(() => {});
    byDefault.schedule(item('b', Date.now() + 3_600_000));
    expect(byDefault.armed).toBe(true);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before);
    byDefault.stop();
  });

  it('schedules and cancels 100,000 items with never more than one timer, and leaves none', () => {
    const { clock, scheduler } = setUp();
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const items = Array.from({ length: 100_000 }, (_, i) => item(`s${i}`, Math.floor(random() * 3_600_000)));
    for (const i of items) scheduler.schedule(i);
    expect(scheduler.size).toBe(100_000);
    // Cancel in a shuffled order, as evictions would.
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    for (const i of items) scheduler.cancel(i);
    expect(scheduler.size).toBe(0);
    expect(scheduler.armed).toBe(false);
    expect(clock.live).toBe(0);
    expect(clock.maxLive).toBe(1);
    expect(items.filter((i) => i.heapIndex !== -1)).toHaveLength(0);
  });

  it('fires 100,000 items in due order', () => {
    const fired: number[] = [];
    const { clock, scheduler } = setUp((i) => fired.push(i.dueAt));
    for (let n = 0; n < 100_000; n++) scheduler.schedule(item(`s${n}`, (n * 7_919) % 100_003));
    clock.advance(100_003);
    expect(fired).toHaveLength(100_000);
    expect(fired.findIndex((at, n) => n > 0 && at < fired[n - 1]!)).toBe(-1);
    expect(clock.live).toBe(0);
  });
});
