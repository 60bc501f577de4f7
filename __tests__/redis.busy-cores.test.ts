/**
 * A cold start while both cores are busy: the fleet keeps to its protocol. Four managers, each with
 * a fresh client of its own (a cluster client's first commands, its slot discovery, are the slow
 * ones), ask for the same cold users while two child processes keep the cores busy. Slow answers
 * on a live connection are not an outage: one token request per user, and no store news.
 */
import { afterEach, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { RedisTokenStore } from '../lib/redis/index.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import type { StoreEvent } from '../lib/store/token-store.js';
import { burnCpus, type CpuBurners } from './helpers/cpu-burners.js';
import { deleteUnder, describeEachRedis, uniquePrefix, type RedisClient } from './helpers/redis.js';

const PROCESSES = 4;
const USERS = 100;
/** The burners stop by themselves after this, whatever happens to the test. */
const BURN_MS = 30_000;

describeEachRedis('a fleet that starts cold on busy cores', (target) => {
  let emulator: Emulator | undefined;
  let burners: CpuBurners | undefined;
  const clients: RedisClient[] = [];
  const managers: TokenManager[] = [];
  afterEach(async () => {
    burners?.stop();
    for (const m of managers.splice(0)) await m.close();
    const admin = target.connect();
    await deleteUnder(admin, PREFIX);
    admin.disconnect();
    for (const c of clients.splice(0)) c.disconnect();
    await emulator?.close();
  });
  const PREFIX = uniquePrefix('busy-cores');

  // On a cluster: a fresh cluster client's first commands (its slot discovery) are the slow ones.
  const onCluster = target.kind === 'cluster' ? it : it.skip;
  onCluster(`${PROCESSES} cold processes × ${USERS} shared users cost one token request per user`, async () => {
    emulator = await startEmulator();
    const events: StoreEvent[] = [];
    for (let p = 0; p < PROCESSES; p++) {
      const redis = target.connect();
      clients.push(redis);
      const manager = new TokenManager({
        clientId: emulator.clientId,
        clientSecret: emulator.clientSecret,
        tokenUrl: emulator.tokenUrl,
        request: { retry: 0 },
        store: new RedisTokenStore({ redis: redis as Redis, keyPrefix: PREFIX }),
      });
      manager.on('store', (event) => events.push(event));
      managers.push(manager);
    }
    burners = burnCpus(2, BURN_MS);
    const users = Array.from({ length: USERS }, (_, i) => `cold-${i}`);

    const outcomes = await Promise.all(managers.map((m) => Promise.allSettled(users.map((u) => m.getToken(u)))));
    burners.stop();

    expect(outcomes.flat().filter((o) => o.status === 'rejected')).toEqual([]);
    expect(emulator.stats().tokenCalls.total).toBe(USERS);
    expect(events).toEqual([]);
  }, 60_000);
});
