/**
 * A slow Redis on a live connection: every reply held back past the command timeout by a loopback
 * proxy (helpers/delay-proxy.ts). Four managers, each with its own client through the proxy, stand
 * for four processes that start cold together. A slow answer is not an outage: the fleet keeps to
 * its protocol (one token request per user) and to its budget, counted where the requests arrive.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, type RedisTokenStoreOptions } from '../lib/redis/index.js';
import { busiestWindow, startArrivalClock, type ArrivalClock } from './helpers/arrival-clock.js';
import { startDelayProxy, type DelayProxy } from './helpers/delay-proxy.js';
import { connect, deleteUnder, describeWithRedis, REDIS_URL, uniquePrefix } from './helpers/redis.js';
import { StoreMembers } from './helpers/store-members.js';

const PREFIX = uniquePrefix('slow-redis');
const PROCESSES = 4;
/** Every Redis reply arrives this late: past the default command timeout. */
const REPLY_DELAY_MS = DEFAULT_COMMAND_TIMEOUT_MS + 300;

describeWithRedis('RedisTokenStore on a slow Redis', () => {
  let emulator: Emulator;
  let clock: ArrivalClock;
  let proxy: DelayProxy;
  let admin: Redis;
  const members = new StoreMembers();

  /**
   * Default `concurrency` (8): it bounds requests on the wire only, so every renewal waits for Redis
   * and the budget at once, and the run is bound by them.
   */
  const fleet = (options: Partial<RedisTokenStoreOptions>) =>
    Array.from({ length: PROCESSES }, () =>
      members.add(
        proxy.url,
        { keyPrefix: PREFIX, ...options },
        { clientId: emulator.clientId, clientSecret: emulator.clientSecret, tokenUrl: clock.tokenUrl, request: { retry: 0 } },
      ),
    );

  beforeAll(async () => {
    emulator = await startEmulator();
    clock = await startArrivalClock(emulator.tokenUrl);
    proxy = await startDelayProxy(REDIS_URL!, REPLY_DELAY_MS);
    admin = connect();
  });
  beforeEach(() => emulator.resetStats());
  afterEach(async () => {
    await members.close();
    await deleteUnder(admin, PREFIX);
  });
  afterAll(async () => {
    admin?.disconnect();
    await proxy?.close();
    await clock?.close();
    await emulator?.close();
  });

  /**
   * More users than the fleet's reservations (4 × 8): the cold start takes several rounds of locks,
   * each of which a process that took the slow replies for an outage would fetch on its own.
   */
  const SHARED_USERS = 64;
  it(`${PROCESSES} cold processes × ${SHARED_USERS} shared users cost one token request per user while every reply is ${REPLY_DELAY_MS} ms late`, async () => {
    const USERS = SHARED_USERS;
    const managers = fleet({});
    const users = Array.from({ length: USERS }, (_, i) => `shared-${i}`);

    const outcomes = await Promise.all(managers.map((m) => Promise.allSettled(users.map((u) => m.manager.getToken(u)))));

    expect(outcomes.flat().filter((o) => o.status === 'rejected')).toEqual([]);
    expect(emulator.stats().tokenCalls.total).toBe(USERS);
    expect(managers.flatMap((m) => m.events)).toEqual([]); // slow, never taken for down
  }, 120_000);

  /** Twice the budget of one interval in all: sent as fast as they could be, they would break it. */
  const BUDGETED_USERS = 20;
  it(`${PROCESSES} cold processes × ${BUDGETED_USERS} users under { limit: 40, interval: 1000 } keep to the budget while every reply is ${REPLY_DELAY_MS} ms late`, async () => {
    const USERS = BUDGETED_USERS;
    const LIMIT = 40;
    const INTERVAL_MS = 1_000;
    const managers = fleet({ rateLimit: { limit: LIMIT, interval: INTERVAL_MS } });
    const before = clock.arrivals.length;

    const outcomes = await Promise.all(
      managers.map((m, p) => Promise.allSettled(Array.from({ length: USERS }, (_, j) => m.manager.getToken(`p${p}-user-${j}`)))),
    );

    expect(outcomes.flat().filter((o) => o.status === 'rejected')).toEqual([]);
    const arrivals = clock.arrivals.slice(before);
    expect(arrivals).toHaveLength(PROCESSES * USERS);
    expect(busiestWindow(arrivals, INTERVAL_MS)).toBeLessThanOrEqual(LIMIT);
  }, 120_000);
});
