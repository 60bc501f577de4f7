/**
 * RedisTokenStore without a Redis server: option validation, the value format and its encryption,
 * key names, what the store prints, and a getToken that succeeds although Redis is unreachable.
 */
import { createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { startEmulator } from '../lib/emulator/index.js';
import { ConfigurationError } from '../lib/shared/errors.js';
import { parseEncryptionKey } from '../lib/redis/cipher.js';
import { EntryCodec, isOlder } from '../lib/redis/entry-codec.js';
import { clientHash, KeyNames } from '../lib/redis/key-names.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_KEY_PREFIX, DEFAULT_LOCK_TTL_MS, RedisTokenStore } from '../lib/redis/index.js';
import { RATE_LIMIT_SUSPENDED } from '../lib/redis/redis-store.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import type { StoreEvent } from '../lib/store/token-store.js';
import { makeToken, scriptedRenewal } from './helpers/redis-stores.js';
import { until } from './helpers/until.js';

const KEY_HEX = 'a1'.repeat(32);
const CLIENT_ID = 'acme-billing-worker';

/** A client that never connects by itself (lazyConnect): validation must not need a server. */
const clients: Redis[] = [];
function idleClient(): Redis {
  const client = new Redis({ lazyConnect: true, port: 1, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  clients.push(client);
  return client;
}
afterAll(() => {
  // Not on an ended client: ioredis would leave a 2 s timer behind for its long-closed socket.
  for (const c of clients) if (c.status !== 'end') c.disconnect();
});

function configError(make: () => unknown): ConfigurationError {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

describe('RedisTokenStore options', () => {
  const base = () => ({ redis: idleClient(), clientId: CLIENT_ID });

  it('applies the defaults, and opens no connection at construction', () => {
    const redis = idleClient();
    const store = new RedisTokenStore({ redis, clientId: CLIENT_ID });
    expect(store.maxScopes).toBe(10_000);
    expect(store.toJSON()).toMatchObject({ keyPrefix: DEFAULT_KEY_PREFIX, encrypted: false, degraded: false, cached: 0 });
    expect(redis.status).toBe('wait');
    expect([DEFAULT_LOCK_TTL_MS, DEFAULT_COMMAND_TIMEOUT_MS]).toEqual([15_000, 500]);
  });

  it("refuses a TokenManager of another client: key names hold the store's clientId", () => {
    const store = new RedisTokenStore({ redis: idleClient(), clientId: CLIENT_ID });
    const error = configError(
      () => new TokenManager({ clientId: `${CLIENT_ID}-other`, clientSecret: 's', tokenUrl: 'http://127.0.0.1:9/t', store }),
    );
    expect(error.option).toBe('store');
    expect(error.message).toMatch(/clientId/);
  });

  it('takes the client id of the TokenManager it is given to, when the option is left out', async () => {
    const redis = idleClient();
    const store = new RedisTokenStore({ redis });
    expect(store.toJSON().client).toBeUndefined();
    const manager = new TokenManager({ clientId: CLIENT_ID, clientSecret: 's', tokenUrl: 'http://127.0.0.1:9/t', store });
    expect(store.toJSON().client).toBe(clientHash(CLIENT_ID, 'http://127.0.0.1:9/t'));
    await manager.close();
  });

  it.each([
    ['redis', { redis: undefined }, 'Expected `redis` to be an ioredis client'],
    ['redis', { redis: {} }, 'got a value of type object'],
    ['redis', { redis: null }, 'got `null`'],
    ['clientId', { clientId: '' }, 'Expected `clientId` to be a non-empty string'],
    ['keyPrefix', { keyPrefix: '' }, 'Expected `keyPrefix` to be a non-empty string'],
    ['keyPrefix', { keyPrefix: 7 }, 'got `7` (number)'],
    ['maxScopes', { maxScopes: 0 }, 'Expected `maxScopes` to be an integer from 1 to 10000000, got `0` (number)'],
    ['maxScopes', { maxScopes: 1.5 }, 'got `1.5` (number)'],
    ['lockTtl', { lockTtl: 50 }, 'Expected `lockTtl` to be an integer from 100 to 600000, got `50` (number)'],
    ['lockTtl', { lockTtl: '15s' }, 'got `"15s"` (string)'],
    ['commandTimeout', { commandTimeout: 0 }, 'Expected `commandTimeout` to be an integer from 1 to 60000'],
    ['outageTimeout', { outageTimeout: 0 }, 'Expected `outageTimeout` to be an integer from 1 to 600000, got `0` (number)'],
    ['outageTimeout', { outageTimeout: '3s' }, 'got `"3s"` (string)'],
    ['outageTimeout', { commandTimeout: 1_000, outageTimeout: 500 }, 'Expected `outageTimeout` (500 ms) to be at least `commandTimeout` (1000 ms)'],
    ['pollInterval', { pollInterval: 2 }, 'Expected `pollInterval` to be an integer from 5 to 60000'],
    ['pollInterval', { pollInterval: 1_000, lockTtl: 1_000 }, 'to be less than `lockTtl` (1000 ms)'],
    ['keyprefix', { keyprefix: 'x:' }, 'Unknown option `keyprefix` in RedisTokenStore options'],
    ['rateLimit', { rateLimit: 40 }, 'Expected `rateLimit` to be an object { limit, interval } or undefined, got `40` (number)'],
    ['rateLimit', { rateLimit: null }, 'Expected `rateLimit` to be an object { limit, interval } or undefined, got `null`'],
    ['rateLimit.limit', { rateLimit: { interval: 1000 } }, 'Expected `rateLimit.limit` to be an integer from 2 to 100000, got `undefined`'],
    ['rateLimit.limit', { rateLimit: { limit: 1, interval: 1000 } }, 'Expected `rateLimit.limit` to be an integer from 2 to 100000, got `1` (number)'],
    ['rateLimit.limit', { rateLimit: { limit: 2.5, interval: 1000 } }, 'got `2.5` (number)'],
    ['rateLimit.limit', { rateLimit: { limit: '40', interval: 1000 } }, 'got `"40"` (string)'],
    ['rateLimit.interval', { rateLimit: { limit: 40 } }, 'Expected `rateLimit.interval` to be an integer from 1 to 3600000, got `undefined`'],
    ['rateLimit.interval', { rateLimit: { limit: 40, interval: 0 } }, 'got `0` (number)'],
    ['rateLimit.interval', { rateLimit: { limit: 40, interval: Infinity } }, 'got `Infinity` (number)'],
    ['rateLimit.reserve', { rateLimit: { limit: 40, interval: 1000, reserve: 39 } }, 'Expected `rateLimit.reserve` to be an integer from 0 to 38, got `39` (number)'],
    ['rateLimit.reserve', { rateLimit: { limit: 40, interval: 1000, reserve: -1 } }, 'got `-1` (number)'],
    ['intervalCap', { rateLimit: { limit: 40, interval: 1000, intervalCap: 5 } }, 'Unknown option `intervalCap` in rateLimit'],
  ])('rejects a bad `%s`, naming it: %j', (option, overrides, message) => {
    const error = configError(() => new RedisTokenStore({ ...base(), ...(overrides as object) } as never));
    expect(error.option).toBe(option);
    expect(error.message).toContain(message);
  });

  it.each([[{ limit: 2, interval: 1 }], [{ limit: 40, interval: 1000 }], [{ limit: 40, interval: 1000, reserve: 0 }], [{ limit: 40, interval: 1000, reserve: 38 }]])(
    'accepts rateLimit %j',
    (rateLimit) => {
      expect(() => new RedisTokenStore({ ...base(), rateLimit })).not.toThrow();
    },
  );

  it("keeps one manager's records in its in-process LRU, as the default store does", async () => {
    const store = new RedisTokenStore({ redis: idleClient(), clientId: CLIENT_ID });
    const keeper = store.keepRecords()!;
    expect(store.keepRecords()).toBeUndefined();
    const token = makeToken('user-1');
    store.save('user-1', token, undefined)?.catch(() => {}); // the write to Redis fails: no server
    expect(keeper.get('user-1')).toBeUndefined();
    const record = { token };
    keeper.hold('user-1', record);
    expect(keeper.get('user-1')).toBe(record);
    expect(store.peek('user-1')).toBe(token);
    await store.close();
  });

  it('rejects a missing options object', () => {
    expect(configError(() => new RedisTokenStore(undefined as never)).option).toBe('redis');
    expect(configError(() => new RedisTokenStore(null as never)).message).toContain('RedisTokenStore options');
  });

  it.each([
    ['a 32-byte Buffer', randomBytes(32)],
    ['64 hex characters', KEY_HEX],
    ['base64 of 32 bytes', randomBytes(32).toString('base64')],
    ['base64url of 32 bytes, unpadded', randomBytes(32).toString('base64url')],
  ])('accepts an encryption key as %s', (_label, encryptionKey) => {
    expect(new RedisTokenStore({ ...base(), encryptionKey }).toJSON()).toMatchObject({ encrypted: true });
  });

  it.each([
    ['a 16-byte Buffer', randomBytes(16), 'a buffer of 16 bytes'],
    ['63 hex characters', KEY_HEX.slice(1), 'a value of type string and length 63'],
    ['base64 of 16 bytes', randomBytes(16).toString('base64'), 'a value of type string and length 24'],
    ['a passphrase', 'correct horse battery staple', 'a value of type string and length 28'],
    ['a number', 42, 'a value of type number'],
  ])('rejects an encryption key that is %s, without echoing it', (_label, encryptionKey, got) => {
    const error = configError(() => new RedisTokenStore({ ...base(), encryptionKey: encryptionKey as never }));
    expect(error.option).toBe('encryptionKey');
    expect(error.message).toBe(`Expected \`encryptionKey\` to be 32 bytes: a Buffer, 64 hex characters, or base64 of 32 bytes, got ${got}`);
    const shown = Buffer.isBuffer(encryptionKey) ? encryptionKey.toString('hex') : String(encryptionKey);
    expect(error.message).not.toContain(shown);
  });
});

describe('key names', () => {
  it('hold a hash of the client id, never the id, then the scope', () => {
    const names = new KeyNames('flux-token:', CLIENT_ID);
    const hash = createHash('sha256').update(CLIENT_ID).digest('hex').slice(0, 16);
    expect(clientHash(CLIENT_ID)).toBe(hash);
    expect(names.of('user-42')).toEqual({
      entry: `flux-token:${hash}:token:user:user-42`,
      lock: `flux-token:${hash}:lock:user:user-42`,
      scope: 'user-42',
    });
    expect(names.of('')).toEqual({ entry: `flux-token:${hash}:token:client`, lock: `flux-token:${hash}:lock:client`, scope: undefined });
    expect(names.channel).toBe(`flux-token:${hash}:changes`);
    for (const name of [names.of('user-42').entry, names.of('').lock, names.channel]) expect(name).not.toContain(CLIENT_ID);
  });

  it('keep the client-wide token apart from any user id, "client" included', () => {
    const names = new KeyNames('p:', CLIENT_ID);
    const wide = names.of('').entry;
    for (const user of ['client', ':client', 'client:', '*', ' ']) expect(names.of(user).entry).not.toBe(wide);
  });

  it('differ between clients', () => {
    expect(new KeyNames('p:', 'client-a').of('u').entry).not.toBe(new KeyNames('p:', 'client-b').of('u').entry);
  });
});

describe('stored values', () => {
  const key = parseEncryptionKey(KEY_HEX);
  const sealed = new EntryCodec(key);
  const plain = new EntryCodec(undefined);
  const entry = 'p:abc:token:user:user-1';

  it('round-trip a token, in clear or sealed', () => {
    const token = makeToken('user-1');
    for (const codec of [plain, sealed]) {
      const decoded = codec.decode(entry, 'user-1', codec.encode(entry, 3, token));
      expect(decoded.version).toBe(3);
      expect(decoded.token).toEqual(token);
      expect(decoded.token?.refreshToken).toBe(token.refreshToken);
    }
  });

  it('seal the token: neither the access token nor the refresh token appears in the value', () => {
    const token = makeToken('user-1');
    const value = sealed.encode(entry, 1, token);
    expect(value).toMatch(new RegExp(`^1:e:${token.expiresAt}:[A-Za-z0-9+/=]+$`));
    expect(value).not.toContain(token.accessToken);
    expect(value).not.toContain(token.refreshToken);
    // Random IV: the same token never gives the same value twice.
    expect(sealed.encode(entry, 1, token)).not.toBe(value);
  });

  it.each([
    ['moved to another key name', (v: string) => ({ entry: 'p:abc:token:user:user-2', scope: 'user-2', raw: v })],
    ['given another version', (v: string) => ({ entry, scope: 'user-1', raw: v.replace(/^1:/, '2:') })],
    ['with a flipped byte', (v: string) => ({ entry, scope: 'user-1', raw: `${v.slice(0, -6)}${v.slice(-6, -5) === 'A' ? 'B' : 'A'}${v.slice(-5)}` })],
    ['cut short', (v: string) => ({ entry, scope: 'user-1', raw: v.slice(0, 20) })],
    ['given another expiry', (v: string) => ({ entry, scope: 'user-1', raw: v.replace(/^1:e:(\d+)/, (_m, x: string) => `1:e:${Number(x) + 60_000}`) })],
    ['in the format without the expiry in clear', (v: string) => ({ entry, scope: 'user-1', raw: v.replace(/^1:e:[^:]+:/, '1:e:') })],
  ])('refuse a sealed value %s', (_label, tamper) => {
    const { entry: at, scope, raw } = tamper(sealed.encode(entry, 1, makeToken('user-1')));
    const decoded = sealed.decode(at, scope, raw);
    expect(decoded.token).toBeUndefined();
    expect(decoded.problem).toBe('decryption failed');
  });

  it.each([
    ['a lower version of the same expiry', { version: 2, expiresAt: 5_000 }, true],
    ['an earlier expiry at a higher version (a value of an entry that has since expired and restarted)', { version: 9, expiresAt: 4_000 }, true],
    ['the same value', { version: 3, expiresAt: 5_000 }, false],
    ['a higher version of the same expiry', { version: 4, expiresAt: 5_000 }, false],
    ['a later expiry at a lower version (the entry expired and restarted at 1)', { version: 1, expiresAt: 70_000 }, false],
  ])('order values by expiry, then version: %s is older: %p', (_label, value, older) => {
    expect(isOlder(value, { version: 3, expiresAt: 5_000 })).toBe(older);
  });

  it('refuse a value sealed with another key', () => {
    const other = new EntryCodec(parseEncryptionKey(randomBytes(32)));
    expect(sealed.decode(entry, 'user-1', other.encode(entry, 1, makeToken('user-1'))).problem).toBe('decryption failed');
  });

  it('refuse a value of the other mode, and values that are not tokens', () => {
    const token = makeToken('user-1');
    expect(sealed.decode(entry, 'user-1', plain.encode(entry, 1, token)).problem).toBe('unencrypted value with encryptionKey');
    expect(plain.decode(entry, 'user-1', sealed.encode(entry, 1, token)).problem).toBe('encrypted value without encryptionKey');
    expect(plain.decode(entry, 'user-2', plain.encode(entry, 1, token)).problem).toBe('token of another scope');
    expect(plain.decode(entry, 'user-1', '1:p:{"a":"x"}').problem).toBe('invalid token fields');
    expect(plain.decode(entry, 'user-1', '1:p:not json').problem).toBe('invalid token fields');
    expect(plain.decode(entry, 'user-1', 'hello').problem).toBe('unreadable value');
    expect(plain.decode(entry, 'user-1', '1:x:whatever').problem).toBe('unreadable value');
  });
});

describe('RedisTokenStore with no Redis at all', () => {
  let manager: TokenManager | undefined;
  afterEach(async () => {
    await manager?.close();
  });

  it('still hands out tokens, reports `degraded` once, and prints no secret', async () => {
    const emulator = await startEmulator();
    try {
      // Nothing listens on port 1, and the client gives up at once.
      const redis = new Redis({ port: 1, host: '127.0.0.1', retryStrategy: () => null, maxRetriesPerRequest: 0, lazyConnect: true });
      redis.on('error', () => {});
      clients.push(redis);
      const encryptionKey = randomBytes(32).toString('base64');
      const store = new RedisTokenStore({ redis, clientId: emulator.clientId, encryptionKey });
      manager = new TokenManager({ clientId: emulator.clientId, clientSecret: emulator.clientSecret, tokenUrl: emulator.tokenUrl, store, request: { retry: 0 } });
      const events: StoreEvent[] = [];
      manager.on('store', (e) => events.push(e));

      const tokens = await Promise.all(['u1', 'u2', 'u3', undefined].map((s) => manager!.getToken(s)));
      expect(tokens).toHaveLength(4);
      expect(await manager.getToken('u1')).toBe(tokens[0]); // then from the local LRU
      expect(events).toEqual([{ kind: 'degraded', detail: expect.any(String) }]);
      expect(store.degraded).toBe(true);

      const printed = [inspect(store, { depth: 5, showHidden: true }), JSON.stringify(store), JSON.stringify(events), inspect(events)].join('\n');
      for (const secret of [emulator.clientSecret, emulator.clientId, encryptionKey, ...tokens.flatMap((t) => [t.accessToken, t.refreshToken!])]) {
        expect(printed).not.toContain(secret);
      }
      expect(inspect(store)).toMatch(/^RedisTokenStore \{ keyPrefix: "flux-token:", client: '[0-9a-f]{16}', encrypted: true, degraded: true, cached: 4, closed: false \}$/);
    } finally {
      await manager?.close();
      manager = undefined;
      await emulator.close();
    }
  });

  it('with rateLimit and no Redis ever, holds a renewal back for its share of the budget, and says so in its degraded event', async () => {
    const store = new RedisTokenStore({ redis: idleClient(), clientId: CLIENT_ID, rateLimit: { limit: 2, interval: 60_000 } });
    const events: StoreEvent[] = [];
    store.onStoreEvent((e) => events.push(e));
    // Redis never counted the fleet: the budget may be spent already, so nothing goes out alone
    // within the interval. Closing the manager (its signal) ends the wait, with no request sent.
    const shutdown = new AbortController();
    const renewal = scriptedRenewal({ fetch: async () => makeToken('a'), signal: shutdown.signal });
    const renewing = store.coordinate('a', renewal);
    await until(() => events.length > 0, 'the degraded event');
    shutdown.abort();
    await expect(renewing).rejects.toMatchObject({ code: 'FLUX_ABORTED' });
    expect(renewal.bases).toEqual([]);
    expect(events).toEqual([{ kind: 'degraded', detail: expect.stringMatching(new RegExp(`; rateLimit: ${RATE_LIMIT_SUSPENDED}$`)) }]);
    await store.close();
  });
});
