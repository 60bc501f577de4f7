/**
 * The lifetime of a shared entry comes from its token; a token that claims an absurd or infinite
 * life (an `exp` of 1e300, say) must never put an absurd or non-finite `PX` on a write, which Redis
 * refuses, and which would make the store work alone for a while.
 */
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { MAX_ENTRY_TTL_MS } from '../lib/redis/shared-entries.js';
import { createToken, MAX_EXPIRES_IN_SECONDS, type Token } from '../lib/endpoint/token.js';
import { deleteUnder, describeEachRedis, keysUnder, uniquePrefix, type RedisClient } from './helpers/redis.js';
import { makeToken, openStore, scriptedRenewal, type SeenCommand, type StoreUnderTest } from './helpers/redis-stores.js';

const PREFIX = uniquePrefix('entry-ttl');

/** A token for `scope` that claims to live `seconds` (as a JWS `exp` far away would make it). */
function claiming(scope: string, seconds: number): Token {
  const base = makeToken(scope);
  return createToken({ ...base, expiresIn: seconds, expiresAt: base.issuedAt + seconds * 1000 });
}

/** The PX argument of every write script the store sent. */
const writePx = (seen: SeenCommand[]) => seen.filter((c) => c.name === 'eval' && c.args.length === 8).map((c) => String(c.args[5]));

describeEachRedis('RedisTokenStore entry lifetimes', (target) => {
  let admin: RedisClient;
  const open: StoreUnderTest[] = [];
  const process_ = () => {
    const s = openStore(target, { keyPrefix: PREFIX, commandTimeout: 5_000 });
    open.push(s);
    return s;
  };

  beforeAll(() => {
    admin = target.connect();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    await deleteUnder(admin, PREFIX);
  });
  afterAll(async () => {
    await admin?.quit();
  });

  it('caps the lifetime of an entry whose token claims 1e300 seconds, and shares it', async () => {
    const a = process_();
    const huge = claiming('user-huge', 1e300);
    expect(await a.store.coordinate('user-huge', scriptedRenewal({ fetch: async () => huge }))).toMatchObject({ source: 'fetch' });

    const [px] = writePx(a.seen);
    expect(px).toMatch(/^\d+$/);
    expect(Number(px)).toBeLessThanOrEqual(MAX_ENTRY_TTL_MS);
    expect(MAX_ENTRY_TTL_MS).toBeLessThanOrEqual((MAX_EXPIRES_IN_SECONDS + 60) * 1000);
    const [key] = await keysUnder(admin, PREFIX);
    expect(await admin.pttl(key!)).toBeGreaterThan(MAX_ENTRY_TTL_MS - 60_000);
    expect(a.events).toEqual([]);
    expect(a.store.degraded).toBe(false);

    // Another process reads it back and uses it.
    const b = process_();
    const read = await b.store.coordinate('user-huge', scriptedRenewal({ fetch: async () => makeToken('user-huge') }));
    expect(read).toMatchObject({ source: 'store', token: { accessToken: huge.accessToken } });
  });

  it.each([
    ['through coordinate()', (s: StoreUnderTest, token: Token) => s.store.coordinate('user-inf', scriptedRenewal({ fetch: async () => token }))],
    ['through save()', (s: StoreUnderTest, token: Token) => s.store.save('user-inf', token, undefined)],
  ])('never writes a token whose lifetime is Infinity (%s), and keeps sharing the others', async (_label, keep) => {
    const a = process_();
    await keep(a, claiming('user-inf', Infinity));
    expect(writePx(a.seen)).toEqual([]);
    expect(await keysUnder(admin, PREFIX)).toEqual([]);
    expect(a.events).toEqual([]);
    expect(a.store.degraded).toBe(false);
    // The store is not holding commands back: the next token is written at once.
    await a.store.coordinate('user-next', scriptedRenewal({ fetch: async () => makeToken('user-next') }));
    expect(await keysUnder(admin, PREFIX)).toHaveLength(1);
  });
});
