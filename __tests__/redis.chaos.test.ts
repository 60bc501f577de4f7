/**
 * Chaos: 4 worker processes (fixtures/fleet-worker.ts) on one RedisTokenStore namespace, asking for
 * the same users all along, while a bounded, seeded random schedule of faults hits Redis: every
 * client paused, Redis killed and started again, every reply held back past the command timeout
 * (through helpers/delay-proxy.ts), and a worker SIGKILLed while it holds a renewal lock. The seed
 * is printed; CHAOS_SEED=<seed> replays a run. The test owns its redis-server.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { KeyNames } from '../lib/redis/key-names.js';
import { startFleet, stopFleet, type FleetWorker } from './fixtures/fleet-driver.js';
import type { RunReply } from './fixtures/fleet-protocol.js';
import { busiestWindow, startArrivalClock, type ArrivalClock } from './helpers/arrival-clock.js';
import { chaosSchedule, chaosSeed, seededRandom, type Fault } from './helpers/chaos-schedule.js';
import { startDelayProxy, type DelayProxy } from './helpers/delay-proxy.js';
import { connect, describeWithRedisServer, whenReady } from './helpers/redis.js';
import { RedisServer } from './helpers/redis-server.js';

const PREFIX = 'flux-test:chaos:';
const WORKERS = 4;
const USERS = Array.from({ length: 20 }, (_, i) => `user-${i}`);
/** Tokens live 4 s, so that every user is renewed several times while the faults go on. */
const TOKEN_SECONDS = 4;
/** Each fault starts this far apart (plus jitter); the first after the cold start. */
const GAP_MS = 3_500;
const START_MS = 2_000;
/** The traffic lasts until a little after the last fault could have ended. */
const DURATION_MS = START_MS + 4 * GAP_MS + 2_000;
const LIMIT = 40;
const INTERVAL_MS = 1_000;
/** A dead holder's lock blocks its user this long at most. */
const LOCK_TTL_MS = 2_000;

describeWithRedisServer('RedisTokenStore under a seeded schedule of Redis faults', () => {
  let server: RedisServer;
  let proxy: DelayProxy;
  let emulator: Emulator;
  let clock: ArrivalClock;
  let admin: Redis;
  let workers: FleetWorker[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    proxy = await startDelayProxy(server.url);
    // Each token request takes 100 ms: a renewal lock is held long enough to be seen.
    emulator = await startEmulator({ expiresIn: TOKEN_SECONDS, latency: 100 });
    clock = await startArrivalClock(emulator.tokenUrl);
    admin = connect(server.url, { maxRetriesPerRequest: null });
  }, 30_000);
  afterAll(async () => {
    await stopFleet(workers);
    admin?.disconnect();
    await proxy?.close();
    await clock?.close();
    await emulator?.close();
    await server?.stop();
  });

  /** Polls `check` every 20 ms for up to `timeoutMs`; whether it held. */
  const eventually = async (check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check().catch(() => false)) return true;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return false;
  };
  const healthy = (w: FleetWorker) => eventually(async () => !(await w.stats()).degraded, 15_000);

  /** What each fault did, for the failure message. */
  const log: string[] = [];
  let killed: FleetWorker | undefined;

  async function inflict(fault: Fault): Promise<void> {
    switch (fault.kind) {
      case 'pause':
        await whenReady(admin, 15_000);
        await admin.client('PAUSE', fault.ms, 'ALL');
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        return;
      case 'restart':
        await server.stop();
        await new Promise((resolve) => setTimeout(resolve, fault.downMs));
        await server.restart();
        return;
      case 'delay':
        proxy.delayMs = fault.delayMs;
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        proxy.delayMs = 0;
        return;
      case 'kill-holder': {
        // A user only the victim asks for: the lock seen in Redis is the victim's.
        const victim = workers[0]!;
        await healthy(victim);
        const scope = 'held-by-victim';
        const lockKey = new KeyNames(PREFIX, emulator.clientId, clock.tokenUrl).of(scope).lock;
        victim.get([scope]).catch(() => {}); // dies with the victim
        const held = await eventually(async () => (await admin.exists(lockKey)) === 1, 10_000);
        victim.kill('SIGKILL');
        await victim.exited;
        killed = victim;
        log.push(`kill-holder: lock ${held ? 'seen' : 'NOT seen'} when the victim was killed`);
        expect(held).toBe(true);
        // Another process needs that user now: it gets the token once the dead holder's lock expires.
        const after = await workers[1]!.get([scope], 30_000);
        expect(after.results.map((r) => ({ ok: r.ok, owner: r.owner }))).toEqual([{ ok: true, owner: scope }]);
        return;
      }
    }
  }

  it(`${WORKERS} processes lose no call, mix no users, keep to the budget, and cost the floor once Redis is healthy`, async () => {
    const seed = chaosSeed();
    const schedule = chaosSchedule(seededRandom(seed), { startMs: START_MS, gapMs: GAP_MS });
    console.log(`chaos seed ${seed} (replay with CHAOS_SEED=${seed}): ${JSON.stringify(schedule)}`);
    workers = await startFleet(WORKERS, {
      tokenUrl: clock.tokenUrl,
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
      store: 'redis',
      redisUrl: proxy.url,
      keyPrefix: PREFIX,
      lockTtl: LOCK_TTL_MS,
      rateLimit: { limit: LIMIT, interval: INTERVAL_MS },
    });
    const started = Date.now();
    const runs = workers.map((w) => w.run(USERS, DURATION_MS, 25, DURATION_MS + 60_000).catch((error: unknown) => error as Error));

    for (const fault of schedule) {
      const wait = started + fault.atMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      log.push(`${fault.kind} at ${Date.now() - started} ms`);
      await inflict(fault);
    }
    const replies = await Promise.all(runs);

    const survivors = workers.filter((w) => w !== killed);
    expect(survivors).toHaveLength(WORKERS - 1);
    const outcomes = replies.filter((r, i) => workers[i] !== killed) as RunReply[];
    for (const run of outcomes) {
      expect({ failures: run.failures, errors: run.errors, wrongUser: run.wrongUser, log }).toEqual({ failures: 0, errors: [], wrongUser: 0, log });
      expect(run.calls).toBeGreaterThan(USERS.length * 10); // the workers really were busy
    }
    expect(busiestWindow(clock.arrivals, INTERVAL_MS)).toBeLessThanOrEqual(LIMIT);

    // Redis healthy again: a cold start of new users costs the floor, one request per user.
    proxy.delayMs = 0;
    for (const w of survivors) expect(await healthy(w)).toBe(true);
    const fresh = USERS.map((u) => `fresh-${u}`);
    const before = emulator.stats().tokenCalls.byScope;
    const gets = await Promise.all(survivors.map((w) => w.get(fresh, 30_000)));
    for (const g of gets) expect(g.results.filter((r) => !r.ok || r.owner !== r.scope)).toEqual([]);
    const after = emulator.stats().tokenCalls.byScope;
    const freshCalls = fresh.reduce((sum, u) => sum + (after[u] ?? 0) - (before[u] ?? 0), 0);
    console.log(`chaos figures: busiest ${INTERVAL_MS} ms window ${busiestWindow(clock.arrivals, INTERVAL_MS)} (limit ${LIMIT}); fresh users ${fresh.length}, token calls ${freshCalls}; ${log.join('; ')}`);
    expect(freshCalls).toBeGreaterThanOrEqual(fresh.length);
    expect(freshCalls).toBeLessThanOrEqual(1.2 * fresh.length);
  }, 120_000);
});
