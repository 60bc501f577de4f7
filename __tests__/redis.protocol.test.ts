/**
 * The fleet protocol of RedisTokenStore, against a real Redis (REDIS_URL) and a real Redis Cluster
 * (REDIS_CLUSTER_NODES), one jest process
 * standing for several: each store has its own connection, as a separate worker would. The
 * manager is left out: a scripted Renewal records what the store asks of it.
 */
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { AbortError, TokenManagerClosedError } from '../lib/shared/errors.js';
import { EntryCodec, versionOf } from '../lib/redis/entry-codec.js';
import { KeyNames } from '../lib/redis/key-names.js';
import { RedisLink } from '../lib/redis/redis-link.js';
import { RenewalLock } from '../lib/redis/renewal-lock.js';
import { SharedEntries } from '../lib/redis/shared-entries.js';
import type { Token } from '../lib/endpoint/token.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import { deleteUnder, describeEachRedis, uniquePrefix, type RedisClient } from './helpers/redis.js';
import {
  deferred,
  lockRefused,
  makeToken,
  openStore,
  scriptedRenewal,
  TEST_CLIENT_ID,
  type StoreUnderTest,
} from './helpers/redis-stores.js';

const PREFIX = uniquePrefix('protocol');

describeEachRedis('RedisTokenStore: the fleet protocol', (target) => {
  let admin: RedisClient;
  const open: StoreUnderTest[] = [];
  /** A store as one process of the fleet would have it. Long poll: only pub/sub can wake a waiter fast. */
  const process_ = (options: Parameters<typeof openStore>[1] = { keyPrefix: PREFIX }) => {
    const s = openStore(target, { pollInterval: 5_000, lockTtl: 20_000, ...options });
    open.push(s);
    return s;
  };
  const names = new KeyNames(PREFIX, TEST_CLIENT_ID);

  beforeAll(() => {
    admin = target.connect();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    await deleteUnder(admin, PREFIX);
  });
  afterAll(async () => {
    await deleteUnder(admin, PREFIX);
    await admin.quit();
  });

  it('hands out a fresh token another process stored, without fetching', async () => {
    const a = process_();
    const b = process_();
    const fetched = makeToken('user-1');
    await a.store.coordinate('user-1', scriptedRenewal({ fetch: async () => fetched }));

    const renewal = scriptedRenewal({ fetch: async () => makeToken('user-1') });
    const result = await b.store.coordinate('user-1', renewal);
    expect(result.source).toBe('store');
    expect(result.token.accessToken).toBe(fetched.accessToken);
    expect(result.token.refreshToken).toBe(fetched.refreshToken);
    expect(renewal.bases).toEqual([]);
  });

  it('with no shared entry, fetches with client credentials (base undefined), never with its local refresh token', async () => {
    const a = process_();
    const renewal = scriptedRenewal({ local: makeToken('user-1', { ageMs: 3_600_000 }), fetch: async () => makeToken('user-1') });
    const result = await a.store.coordinate('user-1', renewal);
    expect(result.source).toBe('fetch');
    expect(renewal.bases).toEqual([undefined]);
  });

  it('renews from the shared token (its refresh token), not from the local one', async () => {
    const a = process_();
    const b = process_();
    const stale = makeToken('user-1', { ageMs: 3_590_000 }); // 10 s left: not fresh
    await a.store.coordinate('user-1', scriptedRenewal({ fetch: async () => stale }));

    const local = makeToken('user-1', { ageMs: 3_595_000 });
    const renewal = scriptedRenewal({ local, fetch: async () => makeToken('user-1') });
    expect((await b.store.coordinate('user-1', renewal)).source).toBe('fetch');
    expect(renewal.bases).toHaveLength(1);
    expect(renewal.bases[0]?.refreshToken).toBe(stale.refreshToken);
  });

  it('does not take back from Redis the very token this process holds (e.g. one the API rejected)', async () => {
    const a = process_();
    const mine = makeToken('user-1');
    await a.store.coordinate('user-1', scriptedRenewal({ fetch: async () => mine }));
    // The API answered 401 to `mine`: the manager renews with it as the local token.
    const renewal = scriptedRenewal({ local: mine, fetch: async () => makeToken('user-1') });
    const result = await a.store.coordinate('user-1', renewal);
    expect(result.source).toBe('fetch');
    expect(result.token.accessToken).not.toBe(mine.accessToken);
    expect(renewal.bases[0]?.refreshToken).toBe(mine.refreshToken); // its refresh token is still good
  });

  it('lets one process fetch while the others wait, and wakes them by pub/sub as soon as it writes', async () => {
    const holder = process_();
    const waiters = [process_(), process_(), process_()];
    const slow = deferred<Token>();
    const holderRenewal = scriptedRenewal({ fetch: () => slow.promise });
    const holding = holder.store.coordinate('user-1', holderRenewal);
    await holder.next((c) => c.name === 'set' && c.reply === 'OK'); // it holds the lock

    const renewals = waiters.map(() => scriptedRenewal({ fetch: async () => makeToken('user-1') }));
    const waiting = waiters.map((w, i) => w.store.coordinate('user-1', renewals[i]!));
    await Promise.all(waiters.map((w) => w.next(lockRefused))); // each found the lock taken

    const token = makeToken('user-1');
    const released = Date.now();
    slow.resolve(token);
    expect((await holding).source).toBe('fetch');
    const results = await Promise.all(waiting);
    // Woken by the announcement, far sooner than their 5 s poll.
    expect(Date.now() - released).toBeLessThan(2_000);
    for (const r of results) expect(r).toMatchObject({ source: 'store', token: { accessToken: token.accessToken } });
    for (const r of renewals) expect(r.bases).toEqual([]);
  });

  it('when the holder fails, a waiter takes the lock at once and fetches itself', async () => {
    const holder = process_();
    const waiter = process_();
    const failing = deferred<Token>();
    const holding = holder.store.coordinate('user-1', scriptedRenewal({ fetch: () => failing.promise }));
    await holder.next((c) => c.name === 'set' && c.reply === 'OK');
    const renewal = scriptedRenewal({ fetch: async () => makeToken('user-1') });
    const waiting = waiter.store.coordinate('user-1', renewal);
    await waiter.next(lockRefused);

    const error = new Error('endpoint down');
    const failed = Date.now();
    failing.reject(error);
    await expect(holding).rejects.toBe(error);
    const result = await waiting;
    expect(result.source).toBe('fetch');
    expect(renewal.bases).toEqual([undefined]);
    // The waiter did not wait for the 20 s lock to expire, nor for its 5 s poll: the holder
    // released the lock and announced it.
    expect(Date.now() - failed).toBeLessThan(2_000);
    expect(await admin.exists(names.of('user-1').lock)).toBe(0);
  });

  it('stops waiting when the manager closes (its signal aborts)', async () => {
    const holder = process_();
    const waiter = process_();
    const slow = deferred<Token>();
    const holding = holder.store.coordinate('user-1', scriptedRenewal({ fetch: () => slow.promise }));
    await holder.next((c) => c.name === 'set' && c.reply === 'OK');
    const shutdown = new AbortController();
    const waiting = waiter.store.coordinate('user-1', scriptedRenewal({ fetch: async () => makeToken('user-1'), signal: shutdown.signal }));
    await waiter.next(lockRefused);
    shutdown.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortError);
    slow.resolve(makeToken('user-1'));
    await holding;
  });

  it('lets TokenManager.close() end a wait for another process at once (the manager passes its shutdown signal)', async () => {
    const tokenUrl = 'http://127.0.0.1:9/token';
    const holder = process_();
    holder.store.bind({ clientId: TEST_CLIENT_ID, tokenUrl: new URL(tokenUrl) }); // the waiter's manager's namespace
    const slow = deferred<Token>();
    const holding = holder.store.coordinate('user-1', scriptedRenewal({ fetch: () => slow.promise }));
    await holder.next((c) => c.name === 'set' && c.reply === 'OK');

    const waiter = process_();
    // Never asked: its store finds the lock taken and waits.
    const manager = new TokenManager({ clientId: TEST_CLIENT_ID, clientSecret: 'unused', tokenUrl, store: waiter.store });
    const call = manager.getToken('user-1');
    call.catch(() => {});
    await waiter.next(lockRefused);
    const closing = Date.now();
    await manager.close();
    expect(Date.now() - closing).toBeLessThan(2_000); // not the 20 s lock lifetime, nor the 5 s poll
    await expect(call).rejects.toBeInstanceOf(TokenManagerClosedError);
    slow.resolve(makeToken('user-1'));
    await holding;
  });

  it('save() shares a token fetched outside coordinate() only where Redis holds none', async () => {
    const a = process_();
    const b = process_();
    const first = makeToken('user-1');
    await a.store.save('user-1', first, undefined);
    const late = makeToken('user-1');
    await b.store.save('user-1', late, undefined); // user-1 is taken: not written
    expect(b.store.peek('user-1')).toBe(late); // but kept in b's own LRU

    const c = process_();
    const r1 = await c.store.coordinate('user-1', scriptedRenewal({ fetch: async () => makeToken('user-1') }));
    expect(r1).toMatchObject({ source: 'store', token: { accessToken: first.accessToken } });
  });

  it('the client-wide token and a user named "client" never share an entry', async () => {
    const a = process_();
    const wide = makeToken(undefined);
    const user = makeToken('client');
    await a.store.coordinate('', scriptedRenewal({ fetch: async () => wide }));
    await a.store.coordinate('client', scriptedRenewal({ fetch: async () => user }));
    const b = process_();
    const nothing = async (): Promise<Token> => {
      throw new Error('must not fetch');
    };
    expect((await b.store.coordinate('', scriptedRenewal({ fetch: nothing }))).token.accessToken).toBe(wide.accessToken);
    expect((await b.store.coordinate('client', scriptedRenewal({ fetch: nothing }))).token.accessToken).toBe(user.accessToken);
  });
});

describeEachRedis('RedisTokenStore: compare-and-set writes and the lock', (target) => {
  let redis: RedisClient;
  let entries: SharedEntries;
  let lock: RenewalLock;
  const keys = new KeyNames(PREFIX, TEST_CLIENT_ID).of('cas-user');
  const channel = new KeyNames(PREFIX, TEST_CLIENT_ID).channel;
  const codec = new EntryCodec(undefined);
  const readToken = async () => {
    const read = await entries.read(keys);
    if (typeof read === 'symbol') throw new Error('Redis unavailable');
    return read;
  };

  beforeAll(() => {
    redis = target.connect();
    // The store drives a cluster through the same command methods as one server.
    const link = new RedisLink(redis as Redis, { commandTimeoutMs: 2_000, report: () => {} });
    entries = new SharedEntries(link, codec, () => {});
    lock = new RenewalLock(link, 900);
  });
  afterEach(async () => {
    await deleteUnder(redis, PREFIX);
  });
  afterAll(async () => {
    await deleteUnder(redis, PREFIX);
    await redis.quit();
  });

  it('writes version n+1 over version n, and never over a newer version (a slow writer loses)', async () => {
    const t1 = makeToken('cas-user');
    expect(await entries.write(keys, channel, 0, t1)).toBe(true);
    expect((await readToken()).version).toBe(1);

    // Two writers read version 1; the fast one writes version 2.
    const fast = makeToken('cas-user');
    const slow = makeToken('cas-user');
    expect(await entries.write(keys, channel, 1, fast)).toBe(true);
    // The slow one, still holding version 1, is refused: the newer token stays.
    expect(await entries.write(keys, channel, 1, slow)).toBe(false);
    // So is a writer that saw no entry at all.
    expect(await entries.write(keys, channel, 0, slow)).toBe(false);
    const after = await readToken();
    expect(after.version).toBe(2);
    expect(after.token?.accessToken).toBe(fast.accessToken);
  });

  it('sets the entry to expire with its token, plus the documented grace', async () => {
    const token = makeToken('cas-user', { seconds: 120 });
    await entries.write(keys, channel, 0, token);
    const pttl = await redis.pttl(keys.entry);
    expect(pttl).toBeGreaterThan(120_000 + 55_000);
    expect(pttl).toBeLessThanOrEqual(120_000 + 60_000);
  });

  it.each([
    ['a version with leading zeros', '007:p:{}', 7],
    ['no version', 'garbage', -1],
    ['16 digits (more than the 15 read)', '1234567890123456:p:{}', -1],
    ['an empty version', ':p:{}', -1],
  ])('reads the version of %s exactly as the Lua script does', async (_label, raw, expected) => {
    expect(versionOf(raw)).toBe(expected);
    await redis.set(keys.entry, raw);
    // The script agrees: it overwrites with that version expected, and refuses another.
    expect(await entries.write(keys, channel, expected + 1, makeToken('cas-user'))).toBe(false);
    expect(await entries.write(keys, channel, expected, makeToken('cas-user'))).toBe(true);
  });

  it('lets one holder in, releases only with its own fence, and keeps the lock alive while it works', async () => {
    const fence = await lock.acquire(keys, channel);
    expect(typeof fence).toBe('string');
    expect(await lock.acquire(keys, channel)).toBeUndefined();
    await lock.release(keys, 'not-the-fence', channel);
    expect(await redis.get(keys.lock)).toBe(fence);

    await redis.pexpire(keys.lock, 500);
    const stop = lock.keepAlive(keys, fence as string);
    try {
      // Every third of the 900 ms lifetime, the keep-alive puts it back to 900 ms.
      const deadline = Date.now() + 3_000;
      while ((await redis.pttl(keys.lock)) <= 600 && Date.now() < deadline) await redis.ping();
      expect(await redis.pttl(keys.lock)).toBeGreaterThan(600);
    } finally {
      stop();
    }
    await lock.release(keys, fence as string, channel);
    expect(await redis.exists(keys.lock)).toBe(0);
  });
});
