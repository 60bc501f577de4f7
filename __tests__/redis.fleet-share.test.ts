/**
 * A process's share of the fleet's budget while Redis cannot count (lib/redis/fleet-share.ts), on
 * an injected clock: `limit / N` per `interval`, a request holding its place until `interval` after
 * its answer, the wait at the start of a spell without Redis, and the share kept for an interval
 * after Redis is back.
 */
import { describe, expect, it } from '@jest/globals';
import { FleetShare } from '../lib/redis/fleet-share.js';

const LIMIT = 40;
const INTERVAL_MS = 1_000;

function share(size?: number) {
  let now = 10_000;
  const s = new FleetShare({ limit: LIMIT, intervalMs: INTERVAL_MS, sizeMemoryMs: 5_000 }, () => now);
  if (size !== undefined) s.learnSize(size);
  return { s, advance: (ms: number) => (now += ms) };
}

let serial = 0;

/** Sends alone as many single requests as fit now, answering each at once. */
function sendWhatFits(s: FleetShare): number {
  let sent = 0;
  while (s.waitFor(1, true) === 0 && sent < 1_000) {
    s.sentAlone([`m${++serial}`])();
    sent++;
  }
  return sent;
}

describe('FleetShare', () => {
  it('keeps to limit / N, rounded down, and to 1 before Redis ever reported the fleet', () => {
    expect([share().s.share, share(1).s.share, share(4).s.share, share(3).s.share, share(400).s.share]).toEqual([1, 40, 10, 13, 1]);
  });

  it('sends nothing alone within an interval of losing Redis, then the share per interval', () => {
    const { s, advance } = share(4);
    expect(s.waitFor(1, true)).toBe(INTERVAL_MS); // the fleet may have spent the window through Redis
    advance(INTERVAL_MS);
    expect(sendWhatFits(s)).toBe(10);
    expect(s.waitFor(1, true)).toBe(INTERVAL_MS);
    advance(INTERVAL_MS - 1);
    expect(sendWhatFits(s)).toBe(0);
    advance(1);
    expect(sendWhatFits(s)).toBe(10);
  });

  it('holds a place until an interval after the answer, not after the send', () => {
    const { s, advance } = share(40); // a share of 1
    expect(s.waitFor(1, true)).toBe(INTERVAL_MS); // Redis lost
    advance(INTERVAL_MS);
    const answered = s.sentAlone(['out']);
    advance(5 * INTERVAL_MS); // still out
    expect(s.waitFor(1, true)).toBeGreaterThan(0);
    answered();
    expect(s.waitFor(1, true)).toBe(INTERVAL_MS);
    advance(INTERVAL_MS);
    expect(s.waitFor(1, true)).toBe(0);
  });

  it('keeps to the share for an interval after the last request sent alone, once Redis counts again', () => {
    const { s, advance } = share(4);
    expect(s.waitFor(1, true)).toBe(INTERVAL_MS); // Redis lost
    advance(INTERVAL_MS);
    expect(sendWhatFits(s)).toBe(10);
    s.counted([]); // Redis answers again
    expect(s.recentlyAlone).toBe(true);
    expect(s.waitFor(1, false)).toBe(INTERVAL_MS);
    advance(INTERVAL_MS);
    expect(s.recentlyAlone).toBe(false);
    // A new spell without Redis starts with its own wait.
    expect(s.waitFor(1, true)).toBe(INTERVAL_MS);
  });

  it('hands Redis the requests it may not hold: those sent alone, and after Redis was down, all of them', () => {
    const { s, advance } = share(4);
    s.counted(['granted:1']);
    expect(s.unknown()).toEqual([]); // Redis holds it
    s.waitFor(1, true);
    advance(INTERVAL_MS);
    s.sentAlone(['alone:1'])();
    advance(200);
    const sinceAlone = s.unknown();
    expect(sinceAlone).toEqual(['alone:1', String(INTERVAL_MS - 200)]);
    s.pushed(sinceAlone);
    expect(s.unknown()).toEqual([]);
    // Redis was down (it may have restarted empty): every request of the last interval goes again.
    s.counted(['granted:2']);
    s.redisLost();
    advance(100);
    const presumed = Array.from({ length: 30 }, (_, i) => [`presumed:${i + 1}`, String(2 * INTERVAL_MS)]).flat();
    expect(s.unknown()).toEqual([...presumed, 'alone:1', String(INTERVAL_MS - 300), 'granted:2', String(INTERVAL_MS - 100)]);
  });

  it('uses the largest fleet size reported within its memory: a Redis restarted empty under-reports', () => {
    const { s, advance } = share(4);
    advance(1_000);
    s.learnSize(1); // the first beat after a restart
    expect([s.fleetSize, s.share]).toEqual([4, 10]);
    advance(5_000);
    s.learnSize(3); // a process died: the others' shares grow once the old report is forgotten
    expect([s.fleetSize, s.share]).toEqual([3, 13]);
  });
});
