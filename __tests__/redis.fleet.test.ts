/**
 * A fleet of worker processes (fixtures/fleet-worker.ts), each with its own TokenManager on a
 * RedisTokenStore shared through a real Redis (REDIS_URL) and a real Redis Cluster
 * (REDIS_CLUSTER_NODES), against the emulator's token endpoint.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { startFleet, stopFleet, type FleetWorker } from './fixtures/fleet-driver.js';
import type { FleetWorkerConfig, GetReply } from './fixtures/fleet-protocol.js';
import { deleteUnder, describeEachRedis, keysUnder, uniquePrefix, type RedisClient } from './helpers/redis.js';
import { until } from './helpers/until.js';

const PREFIX = uniquePrefix('fleet');

describeEachRedis('a fleet of processes on one RedisTokenStore', (target) => {
  let emulator: Emulator;
  let admin: RedisClient;
  let workers: FleetWorker[] = [];
  const config = (): Omit<FleetWorkerConfig, 'name'> => ({
    tokenUrl: emulator.tokenUrl,
    clientId: emulator.clientId,
    clientSecret: emulator.clientSecret,
    store: 'redis',
    redis: target.spec,
    keyPrefix: PREFIX,
    // Counting tests: a stall of a loaded machine must not read as Redis being down.
    commandTimeout: 5_000,
  });

  beforeAll(async () => {
    // A little latency, so that the holders are still fetching when the other processes arrive.
    emulator = await startEmulator({ latency: 10 });
    admin = target.connect();
  });
  beforeEach(() => {
    emulator.setFault('none');
    emulator.resetStats();
  });
  afterEach(async () => {
    await stopFleet(workers);
    workers = [];
    await deleteUnder(admin, PREFIX);
  });
  afterAll(async () => {
    await admin?.quit();
    await emulator?.close();
  });

  it('4 processes asking for the same 200 scopes at once cost the endpoint 200 token calls, not 800', async () => {
    workers = await startFleet(4, config());
    const scopes = Array.from({ length: 200 }, (_, i) => `user-${i}`);

    const replies = await Promise.all(workers.map((w) => w.get(scopes)));

    for (const reply of replies) expect(reply.results.filter((r) => !r.ok)).toEqual([]);
    const stats = emulator.stats();
    expect(stats.tokenCalls.total).toBe(200);
    expect(Object.values(stats.tokenCalls.byScope).every((n) => n === 1)).toBe(true);
    expect(Object.keys(stats.tokenCalls.byScope)).toHaveLength(200);
    // Every process holds the same token for each scope.
    for (let i = 0; i < scopes.length; i++) {
      expect(new Set(replies.map((r) => r.results[i]?.fingerprint)).size).toBe(1);
    }
    // 200 fetched by whichever process held each lock, 600 taken from Redis.
    const fetched = replies.reduce((n, r) => n + r.grants.client_credentials + r.grants.refresh_token, 0);
    const shared = replies.reduce((n, r) => n + r.grants.store, 0);
    expect({ fetched, shared }).toEqual({ fetched: 200, shared: 600 });
    expect(workers.flatMap((w) => w.news)).toEqual([]); // no degraded, no rejected
  }, 60_000);

  it('when the lock holder is killed mid-fetch, another process takes over after the lock expires, and no caller fails', async () => {
    const lockTtl = 1_000;
    workers = await startFleet(3, { ...config(), lockTtl, pollInterval: 50 });
    const [holder, waiterA, waiterB] = workers as [FleetWorker, FleetWorker, FleetWorker];
    emulator.setFault('hang', { count: 1 }); // the holder's request never gets an answer

    const doomed = holder.get(['user-held']);
    doomed.catch(() => {}); // it dies with its process
    await until(() => emulator.stats().concurrentTokenCalls === 1, "the holder's request to reach the endpoint");
    expect((await keysUnder(admin, PREFIX)).filter((k) => k.includes(':lock:'))).toHaveLength(1);

    const waiting = [waiterA.get(['user-held']), waiterB.get(['user-held'])];
    holder.kill('SIGKILL');
    await holder.exited;

    const [a, b] = (await Promise.all(waiting)) as [GetReply, GetReply];
    for (const reply of [a, b]) expect(reply.results[0]).toMatchObject({ ok: true });
    expect(a.results[0]?.fingerprint).toBe(b.results[0]?.fingerprint);
    // One of them took the lock over and fetched; the other got its token from Redis.
    expect([a.grants, b.grants]).toEqual(
      expect.arrayContaining([
        { store: 0, client_credentials: 1, refresh_token: 0 },
        { store: 1, client_credentials: 0, refresh_token: 0 },
      ]),
    );
    // The holder's lock had to expire first: a dead holder stops extending it.
    expect(Math.min(a.results[0]!.ms, b.results[0]!.ms)).toBeGreaterThanOrEqual(lockTtl * 0.6);
    expect(emulator.stats().tokenCalls.total).toBe(2); // the hung one, and the takeover
  }, 30_000);
});
