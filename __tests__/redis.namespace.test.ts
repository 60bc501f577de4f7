/**
 * One Redis and one key prefix shared by two deployments of the same client id against two token
 * endpoints (staging and production): each keeps its own tokens, locks and channel.
 */
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { ConfigurationError } from '../lib/shared/errors.js';
import { clientHash, RedisTokenStore } from '../lib/redis/index.js';
import { KeyNames } from '../lib/redis/key-names.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import { connect, deleteUnder, describeWithRedis, keysUnder, REDIS_URL, uniquePrefix } from './helpers/redis.js';

const PREFIX = uniquePrefix('namespace');

describeWithRedis('RedisTokenStore namespaces: client id and token URL', () => {
  let staging: Emulator;
  let production: Emulator;
  let admin: Redis;
  const opened: { manager: TokenManager; redis: Redis }[] = [];

  const managerOf = (emulator: Emulator) => {
    const redis = connect(REDIS_URL);
    const store = new RedisTokenStore({ redis, keyPrefix: PREFIX, commandTimeout: 5_000 });
    const manager = new TokenManager({
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
      tokenUrl: emulator.tokenUrl,
      store,
      request: { retry: 0 },
    });
    opened.push({ manager, redis });
    return manager;
  };

  beforeAll(async () => {
    // Two token endpoints that know the same client id, as staging and production do.
    [staging, production] = await Promise.all([startEmulator(), startEmulator()]);
    admin = connect(REDIS_URL);
  });
  afterEach(async () => {
    for (const { manager, redis } of opened.splice(0)) {
      await manager.close();
      await redis.quit();
    }
    await deleteUnder(admin, PREFIX);
  });
  afterAll(async () => {
    await admin?.quit();
    await Promise.all([staging?.close(), production?.close()]);
  });

  it('never hands a token of one endpoint to a manager of another with the same client id', async () => {
    expect(staging.clientId).toBe(production.clientId);
    const stagingManager = managerOf(staging);
    const productionManager = managerOf(production);

    const fromStaging = await stagingManager.getToken('user-1');
    const fromProduction = await productionManager.getToken('user-1');

    expect(fromProduction.accessToken).not.toBe(fromStaging.accessToken);
    // Each endpoint issued its own manager's token: production was asked, not Redis.
    expect(staging.stats().tokenCalls.byScope['user-1']).toBe(1);
    expect(production.stats().tokenCalls.byScope['user-1']).toBe(1);
    // Each token works on the API of the endpoint that issued it, and only there.
    const status = async (emulator: Emulator, token: string) =>
      (await fetch(`${emulator.url}/users/user-1/receipts`, { headers: { authorization: `Bearer ${token}` } })).status;
    expect(await status(production, fromProduction.accessToken)).toBe(200);
    expect(await status(production, fromStaging.accessToken)).toBe(401);

    // Two namespaces under the one prefix, one entry in each.
    const keys = await keysUnder(admin, PREFIX);
    expect(keys.sort()).toEqual(
      [
        `${PREFIX}${clientHash(staging.clientId, staging.tokenUrl)}:token:user:user-1`,
        `${PREFIX}${clientHash(production.clientId, production.tokenUrl)}:token:user:user-1`,
      ].sort(),
    );
  });

  it('keeps locks and the change channel apart too', () => {
    const a = new KeyNames(PREFIX, 'one-client', 'https://staging.example/auth/oauth/token');
    const b = new KeyNames(PREFIX, 'one-client', 'https://example/auth/oauth/token');
    expect(a.hash).not.toBe(b.hash);
    expect(a.of('user-1').lock).not.toBe(b.of('user-1').lock);
    expect(a.of('').entry).not.toBe(b.of('').entry);
    expect(a.channel).not.toBe(b.channel);
    // Neither the client id nor the URL shows in a name.
    for (const name of [a.of('user-1').entry, a.of('user-1').lock, a.channel]) {
      expect(name).not.toContain('one-client');
      expect(name).not.toContain('example');
    }
  });

  it('refuses to serve a second token endpoint', () => {
    const redis = connect(REDIS_URL);
    const store = new RedisTokenStore({ redis, keyPrefix: PREFIX });
    const first = new TokenManager({ clientId: staging.clientId, clientSecret: staging.clientSecret, tokenUrl: staging.tokenUrl, store });
    opened.push({ manager: first, redis });
    let error: unknown;
    try {
      new TokenManager({ clientId: production.clientId, clientSecret: production.clientSecret, tokenUrl: production.tokenUrl, store });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ option: 'store', message: expect.stringContaining('one token endpoint') });
  });
});
