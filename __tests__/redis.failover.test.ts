/**
 * A master failover under load: a fleet of 4 worker processes on a RedisTokenStore whose client
 * reaches a master through Sentinel (master, replica and Sentinel are this test's own
 * redis-servers), asking for the same users all along; the master is killed (SIGKILL) just before
 * the users' tokens enter their refresh window, and Sentinel promotes the replica.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { startFleet, stopFleet, type FleetWorker } from './fixtures/fleet-driver.js';
import { describeWithRedisServer } from './helpers/redis.js';
import { SentinelSet } from './helpers/redis-sentinel.js';

const WORKERS = 4;
const USERS = Array.from({ length: 20 }, (_, i) => `user-${i}`);
/**
 * Tokens live 16 s: the manager renews each one in the background from 12 s on (the last 25% of
 * its life), and hands it out until 14.4 s (10% margin), which leaves a failover of a few seconds
 * room to end before a caller needs the new token.
 */
const TOKEN_SECONDS = 16;
/** The run covers one renewal of each token: 0.75 × 16 s = 12 s ≤ 18 s < 24 s. */
const DURATION_MS = 18_000;
/** The master dies a second before the first renewals are due. */
const KILL_AT_MS = 11_000;
/** What one process alone would need: each user's first token and one renewal. */
const FLOOR = USERS.length * 2;

describeWithRedisServer('RedisTokenStore across a Sentinel failover', () => {
  let sentinel: SentinelSet;
  let emulator: Emulator;
  let workers: FleetWorker[] = [];

  beforeAll(async () => {
    sentinel = await SentinelSet.start();
    emulator = await startEmulator({ expiresIn: TOKEN_SECONDS });
  }, 30_000);
  afterAll(async () => {
    await stopFleet(workers);
    await emulator?.close();
    await sentinel?.stop();
  });

  it(`${WORKERS} processes under steady per-user load lose no call, mix no users and stay within 1.2 × the floor when the master is killed`, async () => {
    workers = await startFleet(WORKERS, {
      tokenUrl: emulator.tokenUrl,
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
      store: 'redis',
      redis: sentinel.spec,
      keyPrefix: 'flux-test:failover:',
      // Counting test: a stall of a loaded machine must not read as Redis being down.
      commandTimeout: 5_000,
    });
    expect(await sentinel.masterPort()).toBe(sentinel.ports.master);
    emulator.resetStats();

    const runs = Promise.all(workers.map((w) => w.run(USERS, DURATION_MS, 25)));
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => sentinel.killMaster().then(() => sentinel.promoted()).then(resolve, reject), KILL_AT_MS);
    });
    killed.catch(() => {}); // awaited below; a failure must not surface as unhandled first
    let replies;
    try {
      replies = await runs;
    } finally {
      clearTimeout(timer);
    }
    await killed; // the replica was promoted (it rejects otherwise)
    expect(await sentinel.masterPort()).toBe(sentinel.ports.replica);

    for (const run of replies) {
      expect({ failures: run.failures, errors: run.errors, wrongUser: run.wrongUser }).toEqual({ failures: 0, errors: [], wrongUser: 0 });
      expect(run.calls).toBeGreaterThan(USERS.length * 100); // the workers really were busy
    }
    const { tokenCalls } = emulator.stats();
    // Every user's token was renewed across the failover...
    expect(Object.keys(tokenCalls.byScope).sort()).toEqual([...USERS].sort());
    expect(Math.min(...Object.values(tokenCalls.byScope))).toBeGreaterThanOrEqual(2);
    // ...once for the fleet, not once per process.
    expect(tokenCalls.total).toBeLessThanOrEqual(1.2 * FLOOR);
  }, DURATION_MS + 60_000);
});
