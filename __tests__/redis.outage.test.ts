/**
 * Degrade, never fail: Redis stopped mid-run, or too slow to answer. Two managers on two
 * connections stand for two processes; the test owns its redis-server (started from PATH on a free
 * port), so it can kill it and start it again on the same port without disturbing other tests.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { RedisTokenStore } from '../lib/redis/index.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import type { StoreEvent } from '../lib/store/token-store.js';
import { connect, describeWithRedisServer, whenReady } from './helpers/redis.js';
import { RedisServer } from './helpers/redis-server.js';
import { until } from './helpers/until.js';

const COMMAND_TIMEOUT_MS = 300;
/** How long a late answer is waited for before Redis is taken for down: less than the pause below. */
const OUTAGE_TIMEOUT_MS = 600;

interface Member {
  redis: Redis;
  manager: TokenManager;
  events: StoreEvent[];
}

describeWithRedisServer('RedisTokenStore when Redis goes away', () => {
  let server: RedisServer;
  let emulator: Emulator;
  const members: Member[] = [];

  const member = (): Member => {
    const redis = connect(server.url);
    const store = new RedisTokenStore({ redis, clientId: emulator.clientId, commandTimeout: COMMAND_TIMEOUT_MS, outageTimeout: OUTAGE_TIMEOUT_MS });
    const manager = new TokenManager({
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
      tokenUrl: emulator.tokenUrl,
      store,
      request: { retry: 0 },
    });
    const events: StoreEvent[] = [];
    manager.on('store', (event) => events.push(event));
    const m = { redis, manager, events };
    members.push(m);
    return m;
  };

  beforeAll(async () => {
    server = await RedisServer.start();
    emulator = await startEmulator();
  });
  beforeEach(async () => {
    if (!server.running) await server.restart();
    const admin = connect(server.url);
    await admin.flushall();
    admin.disconnect();
    emulator.resetStats();
  });
  afterEach(async () => {
    for (const m of members.splice(0)) {
      await m.manager.close();
      m.redis.disconnect();
    }
  });
  afterAll(async () => {
    await server?.stop();
    await emulator?.close();
  });

  it('serves every request while Redis is down, and shares tokens again once it is back', async () => {
    const a = member();
    const b = member();
    await Promise.all([whenReady(a.redis), whenReady(b.redis)]);

    // Shared: b uses the token a fetched.
    const before = await a.manager.getToken('before');
    expect((await b.manager.getToken('before')).accessToken).toBe(before.accessToken);

    // Traffic on new scopes (every call a miss, so every call goes to the store), and Redis is
    // killed in the middle of it.
    let running = true;
    let calls = 0;
    const failures: unknown[] = [];
    const traffic = (async () => {
      for (let i = 0; running; i++) {
        const outcomes = await Promise.allSettled([a.manager.getToken(`during-${i}`), b.manager.getToken(`during-${i}`)]);
        calls += outcomes.length;
        for (const o of outcomes) if (o.status === 'rejected') failures.push(o.reason);
      }
    })();
    await until(() => calls >= 20, 'traffic before the outage');
    await server.stop();
    await until(() => a.events.length > 0 && b.events.length > 0, 'both stores to report the outage');
    const atOutage = calls;
    await until(() => calls >= atOutage + 40, 'traffic during the outage');
    running = false;
    await traffic;
    expect(failures).toEqual([]);
    for (const m of [a, b]) expect(m.events).toEqual([{ kind: 'degraded', detail: expect.any(String) }]);

    // Back: both reconnect, and sharing resumes. a fetches and writes; b reads a's token.
    await server.restart();
    await Promise.all([whenReady(a.redis), whenReady(b.redis)]);
    const after = await a.manager.getToken('after');
    const theirs = await b.manager.getToken('after');
    expect(theirs.accessToken).toBe(after.accessToken);
    expect(emulator.stats().tokenCalls.byScope.after).toBe(1);
    for (const m of [a, b]) expect(m.events.map((e) => e.kind)).toEqual(['degraded', 'recovered']);
  }, 30_000);

  it('works alone while Redis is too slow to answer, and shares again when it answers', async () => {
    const a = member();
    const b = member();
    await Promise.all([whenReady(a.redis), whenReady(b.redis)]);
    const admin = connect(server.url);
    try {
      // Every client's commands now wait 1.5 s: far more than the 600 ms outage timeout.
      await admin.client('PAUSE', 1_500, 'ALL');
      const started = Date.now();
      await a.manager.getToken('slow');
      expect(Date.now() - started).toBeLessThan(1_200); // the outage timeout, then its own fetch; not 1.5 s
      expect(a.events).toEqual([{ kind: 'degraded', detail: `GET: no answer within ${OUTAGE_TIMEOUT_MS} ms` }]);

      await admin.ping(); // answered when the pause ends
    } finally {
      admin.disconnect();
    }
    const after = await a.manager.getToken('after-pause');
    expect((await b.manager.getToken('after-pause')).accessToken).toBe(after.accessToken);
    expect(a.events.map((e) => e.kind)).toEqual(['degraded', 'recovered']);
    expect(emulator.stats().tokenCalls.byScope['after-pause']).toBe(1);
  }, 20_000);
});
