/**
 * WriteSignal, the pub/sub wake-up of processes that wait for another one's renewal, on a fake
 * client (an EventEmitter whose duplicate() is the subscriber) and jest's fake timers: which waits
 * poll after `ms` and which after `heardMs`, from when, and what a lost connection changes.
 */
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { Redis } from 'ioredis';
import { WriteSignal, type WriteWait } from '../lib/redis/write-signal.js';

const CHANNEL = 'flux:changes';
const POLL_MS = 50;
const HEARD_MS = 1_000;

/** A subscriber whose SUBSCRIBE the test answers, and a client whose duplicate() it is. */
class FakeSubscriber extends EventEmitter {
  status = 'ready';
  isCluster = false;
  subscribes = 0;
  #answer: (() => void) | undefined;
  subscribe(): Promise<number> {
    this.subscribes++;
    return new Promise((resolve) => (this.#answer = () => resolve(1)));
  }
  /** Redis answers the pending SUBSCRIBE. */
  answer(): void {
    this.#answer?.();
    this.#answer = undefined;
  }
  disconnect(): void {
    this.status = 'end';
  }
}

function fakeClient({ cluster = false } = {}): { redis: Redis; subscriber: FakeSubscriber } {
  const subscriber = new FakeSubscriber();
  subscriber.isCluster = cluster;
  const client = Object.assign(new EventEmitter(), { duplicate: () => subscriber });
  return { redis: client as unknown as Redis, subscriber };
}

/** Whether `wait.until(...)` has resolved, after the promise jobs that are due have run. */
function tracked(promise: Promise<void>): { settled: () => boolean } {
  let done = false;
  void promise.then(() => (done = true));
  return { settled: () => done };
}

/** Lets promise callbacks (the SUBSCRIBE reply, a resolved wait) run. */
const flush = () => jest.advanceTimersByTimeAsync(0);

describe('WriteSignal', () => {
  let signal: WriteSignal;
  let subscriber: FakeSubscriber;

  beforeEach(() => {
    jest.useFakeTimers();
    const fake = fakeClient();
    subscriber = fake.subscriber;
    signal = new WriteSignal(fake.redis, CHANNEL);
  });
  afterEach(async () => {
    await signal.close();
    jest.useRealTimers();
  });

  /** The first wait opens the subscription; Redis confirms it. */
  async function subscribed(): Promise<void> {
    signal.next('warm-up').cancel();
    subscriber.answer();
    await flush();
  }

  it('a wait armed on a live subscription polls after heardMs, and the announcement ends it sooner', async () => {
    await subscribed();
    const wait = signal.next('entry-1');
    wait.hearFromNow();
    const waiting = tracked(wait.until(POLL_MS, HEARD_MS));
    await jest.advanceTimersByTimeAsync(HEARD_MS - 1);
    expect(waiting.settled()).toBe(false); // not after POLL_MS: the release is sure to be heard
    subscriber.emit('message', CHANNEL, 'entry-1');
    await flush();
    expect(waiting.settled()).toBe(true);
  });

  it('a wait made before the subscription is live polls after ms, unless armed once it is live; one made while it is live hears every write after it', async () => {
    const early = signal.next('entry-1'); // opens the subscription, not confirmed yet
    early.hearFromNow();
    const earlyWaiting = tracked(early.until(POLL_MS, HEARD_MS));
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(earlyWaiting.settled()).toBe(true);

    const beforeLive = signal.next('entry-3');
    subscriber.answer();
    await flush();
    beforeLive.hearFromNow(); // e.g. as it sends its lock attempt: it will hear that lock's release
    const armedLater = tracked(beforeLive.until(POLL_MS, HEARD_MS));
    const made = tracked(signal.next('entry-2').until(POLL_MS, HEARD_MS));
    await jest.advanceTimersByTimeAsync(HEARD_MS - 1);
    expect([made.settled(), armedLater.settled()]).toEqual([false, false]);
    await jest.advanceTimersByTimeAsync(1);
    expect([made.settled(), armedLater.settled()]).toEqual([true, true]);
  });

  it("a wait's time runs from until(), not from next(): a wait for a reservation first does not use it up", async () => {
    await subscribed();
    const wait = signal.next('entry-1');
    await jest.advanceTimersByTimeAsync(10 * POLL_MS); // e.g. waiting for the queue's reservation
    const waiting = tracked(wait.until(POLL_MS));
    await jest.advanceTimersByTimeAsync(POLL_MS - 1);
    expect(waiting.settled()).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(waiting.settled()).toBe(true);
  });

  it('an announcement before until() is kept: until() then resolves at once', async () => {
    await subscribed();
    const wait = signal.next('entry-1');
    subscriber.emit('message', CHANNEL, 'entry-1');
    const waiting = tracked(wait.until(POLL_MS, HEARD_MS));
    await flush();
    expect(waiting.settled()).toBe(true);
  });

  it('once the subscription is live, wakes the waits already awaited, and leaves the others to their poll', async () => {
    const awaited = signal.next('entry-1');
    const awaitedWaiting = tracked(awaited.until(HEARD_MS));
    const notYet: WriteWait = signal.next('entry-2'); // still reading, or waiting for its reservation
    subscriber.answer();
    await flush();
    expect(awaitedWaiting.settled()).toBe(true); // it may have missed a write: it reads again
    const later = tracked(notYet.until(POLL_MS));
    await flush();
    expect(later.settled()).toBe(false);
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(later.settled()).toBe(true);
  });

  it('a lost connection wakes the heard waits, makes waits poll after ms until the subscription is back, then hears again', async () => {
    await subscribed();
    const heard = signal.next('entry-1');
    heard.hearFromNow();
    const heardWaiting = tracked(heard.until(POLL_MS, HEARD_MS));
    const armedNotAwaited = signal.next('entry-2');
    armedNotAwaited.hearFromNow();

    subscriber.emit('close');
    await flush();
    expect(heardWaiting.settled()).toBe(true); // announcements may be lost from now on: read again
    const downgraded = tracked(armedNotAwaited.until(POLL_MS, HEARD_MS));
    const during = signal.next('entry-3');
    during.hearFromNow(); // not live: no effect
    const duringWaiting = tracked(during.until(POLL_MS, HEARD_MS));
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(downgraded.settled()).toBe(true);
    expect(duringWaiting.settled()).toBe(true);

    expect(subscriber.subscribes).toBe(1);
    subscriber.emit('ready'); // reconnected: subscribe again, and hear once Redis confirms
    expect(subscriber.subscribes).toBe(2);
    subscriber.answer();
    await flush();
    const after = signal.next('entry-4');
    after.hearFromNow();
    const afterWaiting = tracked(after.until(POLL_MS, HEARD_MS));
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(afterWaiting.settled()).toBe(false);
    subscriber.emit('message', CHANNEL, 'entry-4');
    await flush();
    expect(afterWaiting.settled()).toBe(true);
  });

  it('until() called twice gives the same wait, with the first bound', async () => {
    await subscribed();
    const wait = signal.next('entry-1');
    const first = tracked(wait.until(POLL_MS));
    const second = tracked(wait.until(HEARD_MS));
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect([first.settled(), second.settled()]).toEqual([true, true]);
  });

  it('an announcement on another channel, or of another entry, wakes nothing', async () => {
    await subscribed();
    const waiting = tracked(signal.next('entry-1').until(HEARD_MS));
    subscriber.emit('message', 'other:changes', 'entry-1');
    subscriber.emit('message', CHANNEL, 'entry-2');
    await flush();
    expect(waiting.settled()).toBe(false);
  });

  it('on a Redis Cluster the subscription never counts as live: every wait polls after ms', async () => {
    await signal.close();
    const fake = fakeClient({ cluster: true });
    subscriber = fake.subscriber;
    signal = new WriteSignal(fake.redis, CHANNEL);
    await subscribed();
    const wait = signal.next('entry-1');
    wait.hearFromNow();
    const waiting = tracked(wait.until(POLL_MS, HEARD_MS));
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(waiting.settled()).toBe(true);
  });

  it('close() ends every wait, awaited or not', async () => {
    await subscribed();
    const awaited = tracked(signal.next('entry-1').until(HEARD_MS));
    const notYet = signal.next('entry-2');
    await signal.close();
    await flush();
    expect(awaited.settled()).toBe(true);
    expect(subscriber.status).toBe('end'); // the subscriber connection is disconnected
    const later = tracked(notYet.until(HEARD_MS));
    await flush();
    expect(later.settled()).toBe(true);
  });
});
