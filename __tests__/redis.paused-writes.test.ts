/**
 * Redis stops taking writes for a while (`CLIENT PAUSE ... WRITE`: a failover, a slow disk, a
 * blocked primary) while a process renews a user. Once Redis is healthy again, no renewal lock may
 * be left behind: another process must get the user's token at once, not after `lockTtl`.
 *
 * The test owns its redis-server, so that the pause disturbs no other test file.
 */
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import type { Token } from '../lib/endpoint/token.js';
import { connect, describeWithRedisServer, redisAt, whenReady } from './helpers/redis.js';
import { RedisServer } from './helpers/redis-server.js';
import { deferred, lockRefused, makeToken, openStore, scriptedRenewal, type StoreUnderTest } from './helpers/redis-stores.js';

const PREFIX = 'flux-test:paused:';
const COMMAND_TIMEOUT_MS = 300;
/** How long a late answer is waited for before Redis is taken for down: less than the pause. */
const OUTAGE_TIMEOUT_MS = 600;
const PAUSE_MS = 1_500;
/** Far longer than the pause: a lock left behind would hold the second process for most of it. */
const LOCK_TTL_MS = 15_000;
/**
 * A waiter looks at the lock every second (pub/sub wakes it sooner): a lock left behind until it
 * expires costs more than ten refused attempts; a lock released when Redis resumes, at most two.
 */
const POLL_MS = 1_000;
const MAX_REFUSALS = 2;

describeWithRedisServer('RedisTokenStore when Redis pauses writes during a renewal', () => {
  let server: RedisServer;
  let admin: Redis;
  const open: StoreUnderTest[] = [];
  const process_ = () => {
    const s = openStore(redisAt(server.url), { keyPrefix: PREFIX, commandTimeout: COMMAND_TIMEOUT_MS, outageTimeout: OUTAGE_TIMEOUT_MS, lockTtl: LOCK_TTL_MS, pollInterval: POLL_MS });
    open.push(s);
    return s;
  };

  /** Pauses every client's writes; `resumed` resolves once writes are taken again. */
  const pauseWrites = async (): Promise<{ resumed: Promise<unknown> }> => {
    await admin.client('PAUSE', PAUSE_MS, 'WRITE');
    return { resumed: admin.set(`${PREFIX}probe`, '1') }; // a write: answered when the pause ends
  };

  /** A second process that needs its own renewal (the token it has was rejected) must take the lock. */
  const renewElsewhere = async (scope: string, rejected: Token) => {
    const b = process_();
    await whenReady(b.redis);
    const result = await b.store.coordinate(scope, scriptedRenewal({ local: rejected, fetch: async () => makeToken(scope) }));
    return { result, refusals: b.seen.filter(lockRefused).length };
  };

  beforeAll(async () => {
    server = await RedisServer.start();
    admin = connect(server.url);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    await admin.flushall();
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });

  it("releases the lock of a holder whose write timed out, although the store is holding commands back", async () => {
    const a = process_();
    await whenReady(a.redis);
    const fetch = deferred<Token>();
    const renewing = a.store.coordinate('user-held', scriptedRenewal({ fetch: () => fetch.promise }));
    await a.next((c) => c.name === 'set' && c.reply === 'OK'); // a holds the lock, and is fetching

    const { resumed } = await pauseWrites();
    fetch.resolve(makeToken('user-held'));
    const mine = await renewing; // its write gets no answer in time: it keeps its token anyway
    expect(mine.source).toBe('fetch');
    expect(a.events).toEqual([{ kind: 'degraded', detail: `EVAL write: no answer within ${OUTAGE_TIMEOUT_MS} ms` }]);
    await resumed;

    const { result, refusals } = await renewElsewhere('user-held', mine.token);
    expect(result.source).toBe('fetch');
    expect(refusals).toBeLessThanOrEqual(MAX_REFUSALS);
  }, 30_000);

  it('releases a lock that a `SET NX` given up on took when Redis ran it late', async () => {
    const a = process_();
    await whenReady(a.redis);
    const { resumed } = await pauseWrites();
    // Its GET is answered (a read), its SET NX is not: it renews alone and moves on.
    const mine = await a.store.coordinate('user-late', scriptedRenewal({ fetch: async () => makeToken('user-late') }));
    expect(mine.source).toBe('fetch');
    expect(a.events).toEqual([{ kind: 'degraded', detail: `SET NX: no answer within ${OUTAGE_TIMEOUT_MS} ms` }]);
    await resumed;
    // Redis did run the SET NX when writes resumed: the lock was taken, with a's fence.
    expect(await a.next((c) => c.name === 'set' && c.args.includes('NX'))).toMatchObject({ reply: 'OK' });

    const { result, refusals } = await renewElsewhere('user-late', mine.token);
    expect(result.source).toBe('fetch');
    expect(refusals).toBeLessThanOrEqual(MAX_REFUSALS);
  }, 30_000);
});
