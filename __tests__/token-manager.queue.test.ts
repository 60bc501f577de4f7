import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { TokenManager } from '../lib/manager/token-manager.js';
import { CLIENT_ID, CLIENT_SECRET, hasSettled, startHarness, type Harness } from './fixtures/manager-harness.js';
import { startTokenServer, type TokenServer } from './helpers/scripted-token-server.js';

describe('one queue for every endpoint call', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('runs at most 8 requests at once by default', async () => {
    h = await startHarness();
    const { server, manager } = h;
    server.hold();
    const calls = Array.from({ length: 20 }, (_, i) => manager.getToken(`user-${i}`));
    await server.waitForRequests(8);
    expect(await hasSettled(server.waitForRequests(9), 20)).toBe(false);
    expect(manager.stats().inFlight).toBe(20);
    server.release();
    await Promise.all(calls);
    expect(server.requests).toHaveLength(20);
  });

  it('serves callers who wait before background refreshes', async () => {
    h = await startHarness({ concurrency: 1 });
    const { server, clock, manager } = h;
    const cached = await Promise.all(['bg-1', 'bg-2'].map((s) => manager.getToken(s)));
    server.hold();
    const blocker = manager.getToken('blocker'); // occupies the only slot
    await server.waitForRequests(3);
    clock.jumpTo(cached[0]!.expiresAt - 300_000);
    await manager.getToken('bg-1'); // background refreshes are queued...
    await manager.getToken('bg-2');
    const cold = manager.getToken('cold'); // ...and a waiting caller arrives after them
    server.release();
    await Promise.all([blocker, cold]);
    while (server.requests.length < 6) await new Promise((resolve) => setImmediate(resolve));
    expect(server.requests.slice(2).map((r) => r.scope)).toEqual(['blocker', 'cold', 'bg-1', 'bg-2']);
  });

  it('moves a queued background refresh ahead when a caller starts waiting for it', async () => {
    h = await startHarness({ concurrency: 1 });
    const { server, clock, manager } = h;
    const [first] = await Promise.all(['bg-1', 'bg-2'].map((s) => manager.getToken(s)));
    server.hold();
    const blocker = manager.getToken('blocker');
    await server.waitForRequests(3);
    clock.jumpTo(first!.expiresAt - 300_000);
    await manager.getToken('bg-1');
    await manager.getToken('bg-2');
    manager.invalidate('bg-2', (await manager.getToken('bg-2')).accessToken); // its caller now waits
    const waiting = manager.getToken('bg-2');
    server.release();
    await Promise.all([blocker, waiting]);
    while (server.requests.length < 5) await new Promise((resolve) => setImmediate(resolve));
    expect(server.requests.slice(2).map((r) => r.scope)).toEqual(['blocker', 'bg-2', 'bg-1']);
    expect(manager.stats().backgroundRefreshes).toBe(2);
  });
});

describe('rate limit (intervalCap / interval)', () => {
  let server: TokenServer;
  let manager: TokenManager;
  afterEach(async () => {
    await manager.close();
    await server.close();
    jest.useRealTimers();
  });

  it('starts at most intervalCap requests per interval', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    server = await startTokenServer({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    manager = new TokenManager({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tokenUrl: server.tokenUrl, request: { retry: 0 }, rateLimit: { limit: 2, interval: 1_000 } });
    const calls = Array.from({ length: 5 }, (_, i) => manager.getToken(`user-${i}`));
    await server.waitForRequests(2);
    expect(await hasSettled(server.waitForRequests(3), 20)).toBe(false);
    await jest.advanceTimersByTimeAsync(1_000);
    await server.waitForRequests(4);
    expect(await hasSettled(server.waitForRequests(5), 20)).toBe(false);
    await jest.advanceTimersByTimeAsync(1_000);
    await Promise.all(calls);
    expect(server.requests).toHaveLength(5);
  });
});
