/**
 * A shared store's waits hold no slot of the manager's queue: background renewals that wait for
 * Redis to come back, or for the fleet's budget, leave the queue free for a caller who needs a
 * token for a new user. Counts and order are asserted, not times: the manager's clock is manual
 * (it opens the refresh window), and the waits would last far longer than the test.
 */
import { afterEach, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { RedisTokenStore } from '../lib/redis/index.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import type { TokenManagerOptions } from '../lib/manager/manager-options.js';
import { ManualClock } from './fixtures/manual-clock.js';
import { CLIENT_ID, CLIENT_SECRET } from './fixtures/manager-harness.js';
import { connect, deleteUnder, describeWithRedis, describeWithRedisServer, uniquePrefix, whenReady } from './helpers/redis.js';
import { RedisServer } from './helpers/redis-server.js';
import { scopeOfTestToken, startTokenServer, type TokenServer } from './helpers/scripted-token-server.js';

interface Setup {
  clock: ManualClock;
  server: TokenServer;
  manager: TokenManager;
}

const opened: { manager: TokenManager; server: TokenServer; redis: Redis; after?: () => Promise<void> }[] = [];

afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.manager.close();
    await o.server.close();
    await o.after?.();
    o.redis.disconnect();
  }
});

async function setUp(redis: Redis, store: RedisTokenStore, options: Partial<TokenManagerOptions> = {}, after?: () => Promise<void>): Promise<Setup> {
  const clock = new ManualClock();
  const server = await startTokenServer({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, now: clock.now });
  const manager = new TokenManager({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    tokenUrl: server.tokenUrl,
    request: { retry: 0 },
    clock: { now: clock.now, timers: clock.timers, random: () => 0 },
    store,
    ...options,
  });
  opened.push({ manager, server, redis, ...(after === undefined ? {} : { after }) });
  return { clock, server, manager };
}

/** Caches a used token for each of `users`, then opens their refresh window: one background renewal each. */
async function renewInBackground({ clock, manager }: Setup, users: string[]): Promise<void> {
  const tokens = await Promise.all(users.map((user) => manager.getToken(user)));
  for (const user of users) await manager.getToken(user); // used: worth renewing
  clock.jumpTo(tokens[0]!.expiresAt - 200_000); // inside the 300 s refresh window, still served
  for (const user of users) await manager.getToken(user);
  expect(manager.stats().inFlight).toBe(users.length);
}

describeWithRedisServer('a background renewal waiting for Redis to come back', () => {
  it('holds no slot: with 8 of them waiting, a caller for a new user is served by one request at once', async () => {
    const redisServer = await RedisServer.start();
    const redis = connect(redisServer.url);
    await whenReady(redis);
    const store = new RedisTokenStore({ redis, clientId: CLIENT_ID, commandTimeout: 300, outageTimeout: 600 });
    const setup = await setUp(redis, store, {}, () => redisServer.stop());
    const { server, manager } = setup;
    const users = Array.from({ length: 8 }, (_, i) => `bg-${i}`);
    await Promise.all(users.map((user) => manager.getToken(user)));
    await redisServer.stop();
    const before = server.requests.length;

    await renewInBackground(setup, users);
    const token = await manager.getToken('cold');

    expect(scopeOfTestToken(token.accessToken)).toBe('cold');
    // One request: the caller's. The 8 renewals still wait for Redis (up to 2 × lockTtl), unsent.
    expect(server.requests.slice(before).map((r) => r.scope)).toEqual(['cold']);
    expect(manager.stats().inFlight).toBe(8);
  });
});

describeWithRedis('a background renewal waiting for the fleet budget', () => {
  it('holds no slot: with the background share spent, a caller is served from the reserve at once', async () => {
    const keyPrefix = uniquePrefix('queue-waits');
    const redis = connect();
    await whenReady(redis);
    // Background renewals may fill the window up to limit − reserve = 4; callers up to 6.
    const store = new RedisTokenStore({ redis, clientId: CLIENT_ID, keyPrefix, rateLimit: { limit: 6, interval: 60_000, reserve: 2 } });
    const setup = await setUp(redis, store, { concurrency: 2 }, () => deleteUnder(redis, keyPrefix));
    const { server, manager } = setup;
    const users = ['u1', 'u2', 'u3', 'u4'];

    // 4 requests fill the background share for the minute; the 4 renewals then wait for budget.
    await renewInBackground(setup, users);
    const before = server.requests.length;
    expect(before).toBe(4);
    const token = await manager.getToken('cold');

    expect(scopeOfTestToken(token.accessToken)).toBe('cold');
    expect(server.requests.slice(before).map((r) => r.scope)).toEqual(['cold']);
    expect(manager.stats().inFlight).toBe(4);
  });
});

describeWithRedis('a fleet that starts cold', () => {
  it('shares the work: a process takes no more locks than its queue can send requests for', async () => {
    const keyPrefix = uniquePrefix('queue-share');
    const clock = new ManualClock();
    const server = await startTokenServer({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, now: clock.now });
    const member = () => {
      const redis = connect();
      const manager = new TokenManager({
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        tokenUrl: server.tokenUrl,
        request: { retry: 0 },
        concurrency: 1,
        clock: { now: clock.now, timers: clock.timers },
        store: new RedisTokenStore({ redis, clientId: CLIENT_ID, keyPrefix }),
      });
      let requests = 0;
      manager.on('requestStart', () => requests++);
      opened.push({ manager, server, redis, after: () => deleteUnder(redis, keyPrefix) });
      return { manager, redis, requests: () => requests };
    };
    const [a, b] = [member(), member()];
    await Promise.all([whenReady(a.redis), whenReady(b.redis)]);
    const users = Array.from({ length: 10 }, (_, i) => `shared-${i}`);

    server.hold();
    const fromA = users.map((user) => a.manager.getToken(user));
    await server.waitForRequests(1);
    const fromB = users.map((user) => b.manager.getToken(user));
    // a holds one lock (its one slot is busy); b takes the lock of another user and sends for it.
    await server.waitForRequests(2);
    expect([a.requests(), b.requests()]).toEqual([1, 1]);
    server.release();

    const [tokensA, tokensB] = await Promise.all([Promise.all(fromA), Promise.all(fromB)]);
    expect(server.requests).toHaveLength(users.length);
    expect(new Set(server.requests.map((r) => r.scope)).size).toBe(users.length);
    expect(tokensB.map((t) => t.accessToken)).toEqual(tokensA.map((t) => t.accessToken));
    expect(a.requests() + b.requests()).toBe(users.length);
  });
});
