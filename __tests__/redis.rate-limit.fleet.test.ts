/**
 * The fleet-wide budget on the token endpoint, seen from the endpoint: worker processes
 * (fixtures/fleet-worker.ts) that start cold together, each with its own users, on one
 * RedisTokenStore namespace (REDIS_URL). The requests' arrival times are noted by a proxy in front
 * of the emulator, and every sliding window is checked.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { startFleet, stopFleet, type FleetWorker } from './fixtures/fleet-driver.js';
import type { FleetWorkerConfig } from './fixtures/fleet-protocol.js';
import { busiestWindow, startArrivalClock, type ArrivalClock } from './helpers/arrival-clock.js';
import { deleteUnder, describeEachRedis, uniquePrefix, type RedisClient } from './helpers/redis.js';

const PREFIX = uniquePrefix('rate-fleet');
const PROCESSES = 4;
/** 120 requests in all: three times the limit, so the budget spreads them over three windows. */
const USERS_PER_PROCESS = 30;
const LIMIT = 40;
const INTERVAL_MS = 1_000;
/** Bound on each worker's whole batch: 120 requests at 40 a second need about 3 s. */
const BATCH_TIMEOUT_MS = 60_000;

describeEachRedis('rateLimit across a fleet of processes', (target) => {
  let emulator: Emulator;
  let clock: ArrivalClock;
  let admin: RedisClient;
  let workers: FleetWorker[] = [];
  const config = (extra: Partial<FleetWorkerConfig>): Omit<FleetWorkerConfig, 'name'> => ({
    tokenUrl: clock.tokenUrl,
    clientId: emulator.clientId,
    clientSecret: emulator.clientSecret,
    store: 'redis',
    redis: target.spec,
    keyPrefix: PREFIX,
    // Counting tests: a stall of a loaded machine must not read as Redis being down.
    commandTimeout: 5_000,
    ...extra,
  });

  beforeAll(async () => {
    emulator = await startEmulator();
    clock = await startArrivalClock(emulator.tokenUrl);
    admin = target.connect();
  });
  beforeEach(() => emulator.resetStats());
  afterEach(async () => {
    await stopFleet(workers);
    workers = [];
    await deleteUnder(admin, PREFIX);
  });
  afterAll(async () => {
    await admin?.quit();
    await clock?.close();
    await emulator?.close();
  });

  it(`${PROCESSES} processes × ${USERS_PER_PROCESS} cold users under { limit: ${LIMIT}, interval: ${INTERVAL_MS} } never put more than ${LIMIT} token requests into one second, and every caller gets its token`, async () => {
    workers = await startFleet(PROCESSES, config({ rateLimit: { limit: LIMIT, interval: INTERVAL_MS } }));
    const before = clock.arrivals.length;

    // Every worker asks for its own users at once.
    const replies = await Promise.all(
      workers.map((w, i) => w.get(Array.from({ length: USERS_PER_PROCESS }, (_, j) => `p${i}-user-${j}`), BATCH_TIMEOUT_MS)),
    );
    const results = replies.flatMap((r) => r.results);

    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results).toHaveLength(PROCESSES * USERS_PER_PROCESS);
    const arrivals = clock.arrivals.slice(before);
    expect(arrivals).toHaveLength(PROCESSES * USERS_PER_PROCESS);
    expect(emulator.stats().tokenCalls.total).toBe(PROCESSES * USERS_PER_PROCESS);
    expect(busiestWindow(arrivals, INTERVAL_MS)).toBeLessThanOrEqual(LIMIT);
    expect(workers.flatMap((w) => w.news)).toEqual([]); // Redis stayed up: no fallback to local limits
  }, 120_000);
});
