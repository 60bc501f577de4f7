/**
 * The fleet's budget while Redis is down: each process keeps to its share, `limit / N`, N being
 * the live processes Redis counted while it answered. Four managers, each on its own connection,
 * stand for four processes; the test owns its redis-server, so that it can kill it. The requests'
 * arrival times are noted by a proxy in front of the emulator, and every sliding window is checked.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { busiestWindow, startArrivalClock, type ArrivalClock } from './helpers/arrival-clock.js';
import { describeWithRedisServer, whenReady } from './helpers/redis.js';
import { RedisServer } from './helpers/redis-server.js';
import { StoreMembers } from './helpers/store-members.js';
import { until } from './helpers/until.js';

const PROCESSES = 4;
const USERS = 60;
const LIMIT = 40;
const INTERVAL_MS = 1_000;

describeWithRedisServer('rateLimit while Redis is down', () => {
  let server: RedisServer;
  let emulator: Emulator;
  let clock: ArrivalClock;
  const members = new StoreMembers();
  const member = () =>
    members.add(
      server.url,
      { keyPrefix: 'flux-test:budget-outage:', rateLimit: { limit: LIMIT, interval: INTERVAL_MS } },
      { clientId: emulator.clientId, clientSecret: emulator.clientSecret, tokenUrl: clock.tokenUrl, request: { retry: 0 } },
    );

  beforeAll(async () => {
    server = await RedisServer.start();
    emulator = await startEmulator();
    clock = await startArrivalClock(emulator.tokenUrl);
  });
  beforeEach(async () => {
    if (!server.running) await server.restart();
    emulator.resetStats();
  });
  afterEach(() => members.close());
  afterAll(async () => {
    await server?.stop();
    await clock?.close();
    await emulator?.close();
  });

  it(`${PROCESSES} processes × ${USERS} cold users under { limit: ${LIMIT}, interval: ${INTERVAL_MS} } keep to ${LIMIT} a second after Redis died`, async () => {
    const fleet = Array.from({ length: PROCESSES }, member);
    await Promise.all(fleet.map((m) => whenReady(m.redis)));
    // Each process joins the roll call with its first renewal, and learns the fleet's size from it.
    await Promise.all(fleet.map((m, p) => m.manager.getToken(`warm-${p}`)));
    await until(() => fleet.every((m) => m.store.toJSON().fleetSize === PROCESSES), 'every process to count the fleet');

    await server.stop();
    const before = clock.arrivals.length;
    const outcomes = await Promise.all(
      fleet.map((m, p) => Promise.allSettled(Array.from({ length: USERS }, (_, j) => m.manager.getToken(`p${p}-user-${j}`)))),
    );

    expect(outcomes.flat().filter((o) => o.status === 'rejected')).toEqual([]);
    const arrivals = clock.arrivals.slice(before);
    expect(arrivals).toHaveLength(PROCESSES * USERS);
    expect(busiestWindow(arrivals, INTERVAL_MS)).toBeLessThanOrEqual(LIMIT);
    for (const m of fleet) expect(m.events.map((e) => e.kind)).toEqual(['degraded']);
  }, 60_000);
});
