import { afterEach, describe, expect, it } from '@jest/globals';
import { LruTokenStore } from '../lib/store/lru-store.js';
import type { TimerApi } from '../lib/manager/refresh-scheduler.js';
import { createToken } from '../lib/endpoint/token.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import { createFakeGot } from './fixtures/fake-got.js';
import { hasSettled, nextEvent, recordEvents, startHarness, type Harness } from './fixtures/manager-harness.js';
import { scopeOfTestToken } from './helpers/scripted-token-server.js';

describe('eviction', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('evicts the least recently used scope beyond maxScopes, emits `evicted`, and cancels its scheduled refresh', async () => {
    h = await startHarness({ maxScopes: 2 });
    const { server, clock, manager } = h;
    const evicted = recordEvents(manager, 'evicted');
    const a = await manager.getToken('a');
    await manager.getToken('b');
    await manager.getToken('b'); // b is used: its refresh would go out
    await manager.getToken('a'); // a is now the most recently used
    expect(manager.stats()).toMatchObject({ cached: 2, scheduled: 2 });

    await manager.getToken('c');
    expect(evicted).toEqual([{ scope: 'b', reason: 'evict' }]);
    expect(manager.stats()).toMatchObject({ cached: 2, scheduled: 2 });
    await manager.getToken('c');

    // Past every refresh time: a and c are renewed, b (used, but evicted) is not.
    clock.advanceTo(a.expiresAt - 30_001);
    await server.waitForRequests(5);
    expect(server.callsFor('a')).toBe(2);
    expect(server.callsFor('b')).toBe(1);
    expect(server.callsFor('c')).toBe(2);
    expect(clock.maxLive).toBe(1);
  });

  it('reports the eviction of the client-wide token with an undefined scope', async () => {
    h = await startHarness({ maxScopes: 1 });
    const { manager } = h;
    await manager.getToken();
    const evicted = nextEvent(manager, 'evicted');
    await manager.getToken('user-1');
    expect(await evicted).toEqual({ scope: undefined, reason: 'evict' });
    expect(manager.stats().scheduled).toBe(1);
  });

  it('an idle scope whose scheduled refresh fires is not made "recently used" by it', async () => {
    h = await startHarness({ maxScopes: 2 });
    const { server, clock, manager } = h;
    const evicted = recordEvents(manager, 'evicted');
    const busy = await manager.getToken('busy');
    clock.advance(10_000);
    await manager.getToken('idle');
    clock.advance(10_000);
    await manager.getToken('busy'); // busy is used after idle was fetched: idle is the LRU

    // busy's timer renews it; then idle's timer fires and finds it unused.
    const renewed = nextEvent(manager, 'token');
    clock.advanceTo(busy.expiresAt - 300_000);
    await renewed;
    clock.advance(20_000);
    expect(manager.stats().scheduled).toBe(1); // only the renewed busy token

    await manager.getToken('new');
    expect(evicted).toEqual([{ scope: 'idle', reason: 'evict' }]);
    expect(server.callsFor('busy')).toBe(2);
  });

  it('an eviction while the scope is being fetched loses nothing: its waiters get their token, and it is cached again', async () => {
    const store = new LruTokenStore({ maxScopes: 1 });
    h = await startHarness({ store });
    const { server, clock, manager } = h;
    const evicted = recordEvents(manager, 'evicted');
    const first = await manager.getToken('user-1');

    server.hold();
    clock.jumpTo(first.expiresAt - 30_000); // past the margin: callers wait
    const waiters = Array.from({ length: 5 }, () => manager.getToken('user-1'));
    await server.waitForRequests(2);
    // Another scope takes the only place while user-1's request is in flight.
    const other = createToken({ accessToken: 'at.x.0', tokenType: 'bearer', expiresIn: 3600, issuedAt: clock.now(), expiresAt: clock.now() + 3_600_000 });
    store.save('other', other);
    expect(evicted).toEqual([{ scope: 'user-1', reason: 'evict' }]);
    expect(manager.stats()).toMatchObject({ cached: 1, scheduled: 0, inFlight: 1 });
    expect(await hasSettled(Promise.all(waiters))).toBe(false);

    server.release();
    const tokens = await Promise.all(waiters);
    for (const token of tokens) {
      expect(token).toBe(tokens[0]);
      expect(scopeOfTestToken(token.accessToken)).toBe('user-1');
    }
    expect(await manager.getToken('user-1')).toBe(tokens[0]); // cached again, no new request
    expect(server.requests.map((r) => r.grant)).toEqual(['client_credentials', 'refresh_token']);
    expect(evicted).toEqual([
      { scope: 'user-1', reason: 'evict' },
      { scope: 'other', reason: 'evict' },
    ]);
  });

  it('scopes evicting each other while their requests are in flight: every waiter gets its own token, one request per scope', async () => {
    h = await startHarness({ maxScopes: 2 });
    const { server, manager } = h;
    const evicted = recordEvents(manager, 'evicted');
    server.hold();
    const scopes = ['s0', 's1', 's2', 's3', 's4', 's5'];
    const calls = scopes.flatMap((scope) => Array.from({ length: 5 }, () => manager.getToken(scope).then((token) => ({ scope, token }))));
    await server.waitForRequests(6);
    server.release();
    for (const { scope, token } of await Promise.all(calls)) expect(scopeOfTestToken(token.accessToken)).toBe(scope);
    expect(server.requests).toHaveLength(6);
    expect(evicted).toHaveLength(4);
    expect(manager.stats()).toMatchObject({ cached: 2, scheduled: 2, inFlight: 0 });
  });
});

describe('creating and evicting 100,000 scopes', () => {
  it('leaves at most one timer armed, never more, and none after close', async () => {
    // Real timers, counted: which are armed, and whether they keep the process alive.
    const live = new Set<NodeJS.Timeout>();
    let maxLive = 0;
    let created = 0;
    const timers: TimerApi = {
      setTimeout(callback, ms) {
        const handle = setTimeout(() => {
          live.delete(handle);
          callback();
        }, ms);
        live.add(handle);
        created++;
        maxLive = Math.max(maxLive, live.size);
        return handle;
      },
      clearTimeout(handle) {
        live.delete(handle as NodeJS.Timeout);
        clearTimeout(handle as NodeJS.Timeout);
      },
    };
    const countTimeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const timeoutsBefore = countTimeouts();
    const fake = createFakeGot();
    const manager = new TokenManager({
      clientId: 'client-1',
      clientSecret: 'secret-1',
      tokenUrl: 'http://127.0.0.1:9/auth/oauth/token', // never reached: the fake answers
      request: { got: fake.got, retry: 0 },
      maxScopes: 100,
      clock: { timers },
    });
    let evictions = 0;
    manager.on('evicted', () => evictions++);

    // In batches of 1,000, yielding to the event loop between them: one synchronous block of 100,000
    // calls would hold off every timer and socket of the test process (jest's own included).
    for (let batch = 0; batch < 100; batch++) {
      if (batch > 0) await new Promise((resolve) => setImmediate(resolve));
      const tokens = await Promise.all(Array.from({ length: 1000 }, (_, i) => manager.getToken(`user-${batch}-${i}`)));
      expect(scopeOfTestToken(tokens[999]!.accessToken)).toBe(`user-${batch}-999`);
      expect(manager.stats().scheduled).toBeLessThanOrEqual(100);
      expect(live.size).toBeLessThanOrEqual(1);
    }
    expect(fake.calls).toBe(100_000);
    expect(evictions).toBe(100_000 - 100);
    expect(manager.stats()).toMatchObject({ cached: 100, scheduled: 100, inFlight: 0 });
    expect(maxLive).toBe(1);
    expect(live.size).toBe(1);
    for (const handle of live) expect(handle.hasRef()).toBe(false);
    expect(countTimeouts()).toBeLessThanOrEqual(timeoutsBefore);
    expect(created).toBeGreaterThan(0);

    await manager.close();
    expect(manager.stats().scheduled).toBe(0);
    expect(live.size).toBe(0);
    expect(countTimeouts()).toBeLessThanOrEqual(timeoutsBefore);
    // 100,000 token requests of fixed work (a fake got answers at once): 10 to 20 s of CPU, and more
    // when another jest worker shares the core. Nothing here waits on time, so the bound is generous.
  }, 90_000);
});
