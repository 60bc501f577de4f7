/**
 * Secrets at rest, read back from a real Redis (REDIS_URL) and a real Redis Cluster
 * (REDIS_CLUSTER_NODES): with an encryption key, no stored value holds a token or a refresh token;
 * key names hold no client id; a value tampered with in Redis is rejected (reported as a `rejected`
 * store event) and the token fetched again.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { clientHash, RedisTokenStore } from '../lib/redis/index.js';
import type { Token } from '../lib/endpoint/token.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import type { StoreEvent } from '../lib/store/token-store.js';
import { deleteUnder, describeEachRedis, keysUnder, uniquePrefix, type RedisClient } from './helpers/redis.js';

const PREFIX = uniquePrefix('encryption');
const ENCRYPTION_KEY = randomBytes(32).toString('hex');

describeEachRedis('RedisTokenStore: secrets at rest', (target) => {
  let emulator: Emulator;
  let admin: RedisClient;
  /** The clock of the emulator and the managers: moved instead of waiting for tokens to expire. */
  let now = Date.now();
  const opened: { manager: TokenManager; redis: RedisClient }[] = [];

  /** A manager of its own on its own connection, as a separate process would have. */
  const member = ({ encrypted = true, keyPrefix = PREFIX, maxScopes = 10_000 } = {}) => {
    const redis = target.connect();
    const store = new RedisTokenStore({ redis, clientId: emulator.clientId, keyPrefix, maxScopes, ...(encrypted ? { encryptionKey: ENCRYPTION_KEY } : {}) });
    const manager = new TokenManager({
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
      tokenUrl: emulator.tokenUrl,
      store,
      request: { retry: 0 },
      clock: { now: () => now },
    });
    const events: StoreEvent[] = [];
    manager.on('store', (e) => events.push(e));
    opened.push({ manager, redis });
    return { manager, store, events };
  };
  /** Every raw value under `prefix`, by key. */
  const rawValues = async (prefix = PREFIX) => {
    const keys = await keysUnder(admin, prefix);
    return new Map(await Promise.all(keys.map(async (k) => [k, (await admin.get(k)) ?? ''] as const)));
  };

  beforeAll(async () => {
    emulator = await startEmulator({ expiresIn: 60, now: () => now });
    admin = target.connect();
  });
  beforeEach(() => emulator.resetStats());
  afterEach(async () => {
    for (const { manager, redis } of opened.splice(0)) {
      await manager.close();
      await redis.quit();
    }
    await deleteUnder(admin, PREFIX);
  });
  afterAll(async () => {
    await admin?.quit();
    await emulator?.close();
  });

  it('stores no access token and no refresh token in clear, and no client id in a key name', async () => {
    const { manager } = member();
    const scopes = ['user-1', 'user-2', undefined];
    const tokens: Token[] = await Promise.all(scopes.map((s) => manager.getToken(s)));
    // Each token expires and is renewed with its refresh token: the rotated ones are stored too.
    now += 60_000;
    const renewed = await Promise.all(scopes.map((s) => manager.getToken(s)));
    expect(emulator.stats().tokenCalls.byGrant.refresh_token).toBe(3);

    const values = await rawValues();
    expect(values.size).toBe(3);
    const hash = clientHash(emulator.clientId, emulator.tokenUrl);
    for (const [key, value] of values) {
      expect(key.startsWith(`${PREFIX}${hash}:token:`)).toBe(true);
      expect(key).not.toContain(emulator.clientId);
      expect(value).toMatch(/^\d+:e:\d+(\.\d+)?:[A-Za-z0-9+/=]+$/);
      for (const t of [...tokens, ...renewed]) {
        expect(value).not.toContain(t.accessToken);
        expect(value).not.toContain(t.refreshToken!);
        expect(value).not.toContain(t.accessToken.slice(0, 40));
      }
    }
  });

  it('(the control: without an encryption key, the same values do hold the tokens)', async () => {
    const plainPrefix = `${PREFIX}plain:`;
    const { manager } = member({ encrypted: false, keyPrefix: plainPrefix });
    const token = await manager.getToken('user-1');
    const [value] = [...(await rawValues(plainPrefix)).values()];
    expect(value).toContain(token.accessToken);
    expect(value).toContain(token.refreshToken);
  });

  it.each([
    ['a flipped byte', (value: string) => `${value.slice(0, -8)}${value.at(-8) === 'A' ? 'B' : 'A'}${value.slice(-7)}`, 'decryption failed'],
    ['a value copied from another user', (_value: string, other: string) => other, 'decryption failed'],
    ['a planted unencrypted token', () => '9:p:{"a":"planted","e":3600,"i":1,"x":9999999999999,"s":"user-t"}', 'unencrypted value with encryptionKey'],
    ['garbage', () => 'garbage', 'unreadable value'],
  ])('rejects a value tampered with in Redis (%s), and fetches the token again', async (_label, tamper, problem) => {
    const first = member();
    const original = await first.manager.getToken('user-t');
    await first.manager.getToken('user-other');
    const values = await rawValues();
    const key = [...values.keys()].find((k) => k.endsWith(':user:user-t'))!;
    const other = [...values.entries()].find(([k]) => k.endsWith(':user:user-other'))![1];
    await admin.set(key, tamper(values.get(key)!, other), 'PX', 60_000);

    // Another process, with nothing in its own cache, looks in Redis.
    const second = member();
    const token = await second.manager.getToken('user-t');
    expect(token.accessToken).not.toBe(original.accessToken);
    expect(token.accessToken).not.toBe('planted');
    expect(emulator.stats().tokenCalls.byScope['user-t']).toBe(2);
    expect(second.events).toEqual([{ kind: 'rejected', scope: 'user-t', detail: problem }]);
    // The fetched token replaced the bad value: a third process takes it from Redis.
    const third = member();
    expect((await third.manager.getToken('user-t')).accessToken).toBe(token.accessToken);
    expect(third.events).toEqual([]);
    expect(emulator.stats().tokenCalls.byScope['user-t']).toBe(2);
  });

  it('refuses an older sealed value put back in Redis, once this process has seen a newer one', async () => {
    // A local cache of one scope: reading another user drops user-r, so its next call reads Redis.
    const first = member({ maxScopes: 1 });
    const old = await first.manager.getToken('user-r');
    const key = [...(await rawValues()).keys()].find((k) => k.endsWith(':user:user-r'))!;
    const oldValue = (await admin.get(key))!;
    // The API refused it: the renewal writes version 2.
    expect(first.manager.invalidate('user-r', old)).toBe(true);
    const newer = await first.manager.getToken('user-r');
    expect(await admin.get(key)).toMatch(/^2:e:/);
    // Someone who can write to Redis puts version 1 back: sealed with the right key, still valid.
    await admin.set(key, oldValue, 'PX', 60_000);
    await first.manager.getToken('user-other');

    const token = await first.manager.getToken('user-r');
    expect([old.accessToken, newer.accessToken]).not.toContain(token.accessToken);
    expect(first.events).toEqual([{ kind: 'rejected', scope: 'user-r', detail: 'older than a value seen before' }]);
    expect(emulator.stats().tokenCalls.byScope['user-r']).toBe(3);
    // The fetched token replaced the old value: another process takes it from Redis.
    expect((await member().manager.getToken('user-r')).accessToken).toBe(token.accessToken);
  });

  it('(the limit: a process that never saw the newer value takes an older one put back, while it is valid)', async () => {
    const first = member();
    const old = await first.manager.getToken('user-r');
    const key = [...(await rawValues()).keys()].find((k) => k.endsWith(':user:user-r'))!;
    const oldValue = (await admin.get(key))!;
    expect(first.manager.invalidate('user-r', old)).toBe(true);
    await first.manager.getToken('user-r');
    await admin.set(key, oldValue, 'PX', 60_000);

    expect((await member().manager.getToken('user-r')).accessToken).toBe(old.accessToken);
  });

  it('prints no secret: not in util.inspect, JSON, events or errors', async () => {
    const { manager, store, events } = member();
    const token = await manager.getToken('user-1');
    await admin.set([...(await rawValues()).keys()][0]!, 'garbage', 'PX', 60_000);
    await member().manager.getToken('user-1'); // a rejected event, in another member
    const printed = [
      inspect(store, { depth: 10, showHidden: true }),
      JSON.stringify(store),
      inspect(manager, { depth: 10 }),
      JSON.stringify(events),
      inspect(opened.map((o) => o.manager)),
    ].join('\n');
    for (const secret of [token.accessToken, token.refreshToken!, emulator.clientSecret, ENCRYPTION_KEY, Buffer.from(ENCRYPTION_KEY, 'hex').toString('base64')]) {
      expect(printed).not.toContain(secret);
    }
  });
});
