import { afterEach, describe, expect, it } from '@jest/globals';
import {
  DEFAULT_EXPIRY_MARGIN_MS,
  DEFAULT_REFRESH_JITTER,
  DEFAULT_REFRESH_WINDOW_MS,
  marginOf,
  refreshAtOf,
  usableUntil,
  type ExpiryPolicy,
} from '../lib/manager/expiry.js';
import { createToken, type Token } from '../lib/endpoint/token.js';
import { hasSettled, startHarness, type Harness } from './fixtures/manager-harness.js';
import { scopeOfTestToken } from './helpers/scripted-token-server.js';

const ISSUED = Date.UTC(2031, 0, 1);
const DEFAULTS: ExpiryPolicy = {
  expiryMarginMs: DEFAULT_EXPIRY_MARGIN_MS,
  refreshWindowMs: DEFAULT_REFRESH_WINDOW_MS,
  jitter: DEFAULT_REFRESH_JITTER,
};

function tokenLasting(seconds: number, issuedAt = ISSUED): Token {
  return createToken({ accessToken: 'at', tokenType: 'bearer', expiresIn: seconds, issuedAt, expiresAt: issuedAt + seconds * 1000 });
}

/** A small deterministic PRNG (mulberry32), so that the spread is the same on every run. */
function seededRandom(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('expiry arithmetic (lib/manager/expiry.ts)', () => {
  it('documents its defaults: a 30 s margin, a 5 min refresh window, 10% jitter', () => {
    expect(DEFAULTS).toEqual({ expiryMarginMs: 30_000, refreshWindowMs: 300_000, jitter: 0.1 });
  });

  it.each([
    // lifetime (s), margin (ms): 30 s, capped at 10% of the lifetime
    [3600, 30_000],
    [300, 30_000],
    [200, 20_000],
    [20, 2_000],
    [1, 100],
  ])('a token lasting %i s has a margin of %i ms, and is usable until expiry minus that', (seconds, margin) => {
    const token = tokenLasting(seconds);
    expect(marginOf(token, DEFAULTS)).toBe(margin);
    expect(usableUntil(token, DEFAULTS)).toBe(token.expiresAt - margin);
  });

  it.each([
    // lifetime (s), window (ms): 5 min, capped at 25% of the lifetime
    [3600, 300_000],
    [1200, 300_000],
    [600, 150_000],
    [20, 5_000],
  ])('a token lasting %i s enters its refresh window %i ms before expiry (no jitter drawn)', (seconds, window) => {
    const token = tokenLasting(seconds);
    expect(refreshAtOf(token, DEFAULTS, () => 0)).toBe(token.expiresAt - window);
  });

  it('jitter moves the refresh later by at most `jitter` of the window, never past the margin', () => {
    const token = tokenLasting(3600);
    const start = token.expiresAt - 300_000;
    expect(refreshAtOf(token, DEFAULTS, () => 0.5)).toBe(start + 15_000);
    expect(refreshAtOf(token, DEFAULTS, () => 0.999_999)).toBeLessThan(start + 30_000);
    // A window barely wider than the margin, and full jitter: capped at the end of usability.
    const tight: ExpiryPolicy = { expiryMarginMs: 30_000, refreshWindowMs: 40_000, jitter: 1 };
    expect(refreshAtOf(token, tight, () => 0.99)).toBe(usableUntil(token, tight));
    expect(refreshAtOf(token, { ...DEFAULTS, jitter: 0 }, () => 0.99)).toBe(start);
  });

  it('jitter spreads the refreshes of tokens issued together over the first 10% of the window', () => {
    const random = seededRandom(42);
    const times = Array.from({ length: 1000 }, () => refreshAtOf(tokenLasting(3600), DEFAULTS, random));
    const start = ISSUED + 3_600_000 - 300_000;
    for (const t of times) {
      expect(t).toBeGreaterThanOrEqual(start);
      expect(t).toBeLessThan(start + 30_000);
    }
    expect(new Set(times).size).toBeGreaterThan(990);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(27_000);
    // Without jitter they would all fall on one instant.
    const unjittered = new Set(Array.from({ length: 100 }, () => refreshAtOf(tokenLasting(3600), { ...DEFAULTS, jitter: 0 }, random)));
    expect(unjittered.size).toBe(1);
  });
});

describe('expiry margin in the manager', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('hands a token out up to 30 s before expiry, and never inside the margin: callers then wait for a new one', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    const first = await manager.getToken('user-1');
    expect(first.expiresAt - first.issuedAt).toBe(3_600_000);

    server.hold();
    clock.jumpTo(first.expiresAt - 30_001);
    await expect(manager.getToken('user-1')).resolves.toBe(first); // in the window: served, renewal starts

    clock.jumpTo(first.expiresAt - 30_000);
    const waiting = manager.getToken('user-1');
    expect(await hasSettled(waiting)).toBe(false);
    await server.waitForRequests(2);
    server.release();
    const second = await waiting;
    expect(second).not.toBe(first);
    expect(scopeOfTestToken(second.accessToken)).toBe('user-1');
    expect(second.expiresAt - 30_000).toBeGreaterThan(clock.now());
    expect(server.requests).toHaveLength(2);
  });

  it('caps the margin at 10% of the lifetime, so a 20 s token is served for 18 s', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    server.expiresIn = 20;
    const first = await manager.getToken('user-1');
    server.hold();
    clock.jumpTo(first.issuedAt + 17_999);
    await expect(manager.getToken('user-1')).resolves.toBe(first);
    clock.jumpTo(first.issuedAt + 18_000);
    const waiting = manager.getToken('user-1');
    expect(await hasSettled(waiting)).toBe(false);
    server.release();
    await expect(waiting).resolves.not.toBe(first);
  });

  it('opens the refresh window 5 min before expiry (25% of a 10 min token): no request before, one after', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    const long = await manager.getToken('long');
    server.expiresIn = 600;
    const short = await manager.getToken('short');
    expect(server.requests).toHaveLength(2);

    clock.jumpTo(long.expiresAt - 300_001);
    await manager.getToken('long');
    expect(manager.stats().inFlight).toBe(0);
    clock.jumpTo(long.expiresAt - 300_000);
    await manager.getToken('long');
    expect(manager.stats()).toMatchObject({ inFlight: 1, backgroundRefreshes: 1 });
    await server.waitForRequests(3);

    clock.jumpTo(short.expiresAt - 150_001);
    await manager.getToken('short');
    expect(server.callsFor('short')).toBe(1);
    clock.jumpTo(short.expiresAt - 150_000);
    await manager.getToken('short');
    await server.waitForRequests(4);
    expect(server.requests.slice(2).map((r) => r.form)).toEqual([
      { grant_type: 'refresh_token', refresh_token: long.refreshToken },
      { grant_type: 'refresh_token', refresh_token: short.refreshToken },
    ]);
  });
});
