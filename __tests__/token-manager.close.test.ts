import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { TokenManagerClosedError } from '../lib/shared/errors.js';
import type { Token } from '../lib/endpoint/token.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import { CLIENT_ID, CLIENT_SECRET, hasSettled, startHarness, type Harness } from './fixtures/manager-harness.js';
import { ManualClock } from './fixtures/manual-clock.js';
import { startTokenServer, type TokenServer } from './helpers/scripted-token-server.js';

describe('close()', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('rejects waiting callers with TokenManagerClosedError, and every later call', async () => {
    h = await startHarness();
    const { server, manager } = h;
    server.hold();
    const waiting = [manager.getToken('user-1'), manager.getToken('user-1'), manager.getToken('user-2', { signal: new AbortController().signal })];
    await server.waitForRequests(2);

    const closing = manager.close();
    expect(manager.closed).toBe(true);
    for (const call of waiting) {
      const error = await call.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenManagerClosedError);
      expect(error).toMatchObject({ code: 'FLUX_MANAGER_CLOSED' });
    }
    await closing;
    server.release();

    await expect(manager.getToken('user-1')).rejects.toMatchObject({ code: 'FLUX_MANAGER_CLOSED' });
    await expect(manager.getToken()).rejects.toBeInstanceOf(TokenManagerClosedError);
    expect(manager.stats()).toMatchObject({ inFlight: 0, scheduled: 0, cached: 0 });
  });

  it('makes invalidate() throw TokenManagerClosedError, as getToken() rejects with it', async () => {
    h = await startHarness();
    const { manager } = h;
    const token = await manager.getToken('user-1');
    await manager.close();

    expect(() => manager.invalidate('user-1', token)).toThrow(TokenManagerClosedError);
    expect(() => manager.invalidate(undefined, 'any-access-token')).toThrow(TokenManagerClosedError);
  });

  it('is idempotent: every call returns the same promise, and the second changes nothing', async () => {
    h = await startHarness();
    const { manager } = h;
    await manager.getToken('user-1');
    const first = manager.close();
    const second = manager.close();
    expect(second).toBe(first);
    await expect(first).resolves.toBeUndefined();
    await expect(manager.close()).resolves.toBeUndefined();
    await expect(manager[Symbol.asyncDispose]()).resolves.toBeUndefined();
  });

  it('cancels every scheduled refresh: no timer is left, and none fires a request later', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    for (const scope of ['a', 'b', 'c']) {
      await manager.getToken(scope);
      await manager.getToken(scope); // used: each would be renewed
    }
    expect(manager.stats().scheduled).toBe(3);
    expect(clock.live).toBe(1);
    await manager.close();
    expect(manager.stats().scheduled).toBe(0);
    expect(clock.live).toBe(0);
    clock.advance(10 * 3_600_000);
    expect(server.requests).toHaveLength(3);
  });

  it('does not cache the answer of a request that completes after close', async () => {
    h = await startHarness();
    const { server, manager } = h;
    const tokens: unknown[] = [];
    manager.on('token', (t) => tokens.push(t));
    server.hold();
    const call = manager.getToken('user-1');
    await server.waitForRequests(1);
    await Promise.all([manager.close(), expect(call).rejects.toBeInstanceOf(TokenManagerClosedError)]);
    server.release();
    expect(tokens).toEqual([]);
    expect(manager.stats().cached).toBe(0);
  });

  it('rejects callers queued behind a busy queue too, and their requests are never sent', async () => {
    h = await startHarness({ concurrency: 1 });
    const { server, manager } = h;
    server.hold();
    const calls = ['a', 'b', 'c', 'd'].map((scope) => manager.getToken(scope));
    await server.waitForRequests(1);
    await manager.close();
    for (const call of calls) await expect(call).rejects.toBeInstanceOf(TokenManagerClosedError);
    server.release();
    expect(server.requests).toHaveLength(1);
  });
});

describe('close() under a rate limit (intervalCap / interval)', () => {
  let h: Harness;
  afterEach(async () => {
    // Whatever the test left queued is let through before the clock turns real again.
    h.server.release();
    await jest.advanceTimersByTimeAsync(60_000);
    jest.useRealTimers();
    await h.stop();
  });

  it('drops the queued requests and resolves without waiting for the limiter: 1,000 cold users at 50/s', async () => {
    // Fake timers drive p-queue's interval: no fake time passes unless the test advances it.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    h = await startHarness({ concurrency: 50, rateLimit: { limit: 50, interval: 1_000 } });
    const { server, manager } = h;
    server.hold();
    const outcomes = Array.from({ length: 1_000 }, (_, i) => manager.getToken(`user-${i}`).catch((e: unknown) => e));
    await server.waitForRequests(50);
    const startedAt = Date.now();

    const closing = manager.close();
    expect(await hasSettled(closing, 50)).toBe(true);
    expect(Date.now()).toBe(startedAt);
    const errors = await Promise.all(outcomes);
    expect(errors.filter((e) => e instanceof TokenManagerClosedError)).toHaveLength(1_000);
    expect(manager.stats()).toMatchObject({ inFlight: 0, scheduled: 0, cached: 0 });

    server.release();
    await jest.advanceTimersByTimeAsync(30_000);
    expect(server.requests).toHaveLength(50);
  });
});

describe('`await using`', () => {
  let server: TokenServer;
  afterEach(async () => {
    await server.close();
  });

  it('closes the manager at the end of the block', async () => {
    server = await startTokenServer({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    const clock = new ManualClock();
    let escaped: TokenManager | undefined;
    {
      await using manager = new TokenManager({
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        tokenUrl: server.tokenUrl,
        request: { retry: 0 },
        clock: { now: clock.now, timers: clock.timers },
      });
      escaped = manager;
      await manager.getToken('user-1');
      expect(clock.live).toBe(1);
    }
    expect(escaped.closed).toBe(true);
    expect(clock.live).toBe(0);
    await expect(escaped.getToken('user-1')).rejects.toMatchObject({ code: 'FLUX_MANAGER_CLOSED' });
  });
});

describe('resources held by a long-lived manager', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('keeps nothing of a wait once it ended: its promise can be collected before close', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    h = await startHarness();
    const { manager } = h;
    const refs: WeakRef<Promise<Token>>[] = [];
    for (const scope of ['a', 'b', 'c']) {
      let call: Promise<Token> | undefined = manager.getToken(scope); // a miss: waits for a flight
      refs.push(new WeakRef(call));
      await call;
      call = undefined;
    }
    // WeakRef targets survive the job that created them: collect from a later turn.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    expect(refs.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
  });
});
