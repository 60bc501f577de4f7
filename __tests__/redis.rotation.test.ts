/**
 * Strict refresh-token rotation across a fleet: each refresh token works once at the emulator, so
 * two processes spending the same one would get an `invalid_grant`. With the shared store, only the
 * lock holder spends the shared refresh token, and writes its successor for the others.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { startFleet, stopFleet, type FleetWorker } from './fixtures/fleet-driver.js';
import { deleteUnder, describeEachRedis, uniquePrefix, type RedisClient } from './helpers/redis.js';

const PREFIX = uniquePrefix('rotation');
/** A fleet refreshing for 8 s with 2 s tokens: about five rotations of every scope's refresh token. */
const DURATION_MS = 8_000;
const TOKEN_SECONDS = 2;
const WORKERS = 4;
/** Ten users and the client-wide token. */
const SCOPES: (string | null)[] = [...Array.from({ length: 10 }, (_, i) => `user-${i}`), null];

describeEachRedis('strict refresh-token rotation across a fleet', (target) => {
  let emulator: Emulator;
  let admin: RedisClient;
  let workers: FleetWorker[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ expiresIn: TOKEN_SECONDS });
    admin = target.connect();
  });
  afterAll(async () => {
    await stopFleet(workers);
    await deleteUnder(admin, PREFIX);
    await admin?.quit();
    await emulator?.close();
  });

  it(`${WORKERS} processes refreshing ${SCOPES.length} scopes for ${DURATION_MS / 1000} s with ${TOKEN_SECONDS} s tokens get 0 invalid_grant answers`, async () => {
    workers = await startFleet(WORKERS, {
      tokenUrl: emulator.tokenUrl,
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
      store: 'redis',
      redis: target.spec,
      keyPrefix: PREFIX,
      // Counting test: a stall of a loaded machine must not read as Redis being down.
      commandTimeout: 5_000,
    });
    emulator.resetStats();

    const runs = await Promise.all(workers.map((w) => w.run(SCOPES, DURATION_MS, 25)));

    for (const run of runs) {
      expect({ failures: run.failures, errors: run.errors }).toEqual({ failures: 0, errors: [] });
      expect(run.calls).toBeGreaterThan(SCOPES.length * 100); // the workers really were busy
    }
    const { tokenCalls } = emulator.stats();
    expect(tokenCalls.invalidGrant).toBe(0);
    // Tokens were refreshed all along: about every 1.5 s (2 s minus the 0.5 s refresh window), so
    // about 5 times per scope; at least 3 however busy the machine (a busy one refreshes later)...
    expect(tokenCalls.byGrant.refresh_token).toBeGreaterThanOrEqual(SCOPES.length * 3);
    // ...once for the fleet, not once per process: 4 separate caches would make about 4 × 6 per scope.
    expect(tokenCalls.total).toBeLessThanOrEqual(SCOPES.length * 8);
    expect(tokenCalls.byGrant.client_credentials).toBe(SCOPES.length); // the first token of each scope, only
    expect(workers.flatMap((w) => w.news)).toEqual([]);
  }, DURATION_MS + 150_000); // the fleet's start-up (see fleet-driver.ts) and its requests are bounded there
});
