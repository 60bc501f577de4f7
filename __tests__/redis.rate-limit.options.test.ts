/**
 * `rateLimit` without a Redis server: its validation, and what a process does when Redis cannot
 * be reached (it renews under its own queue limits, and says so).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { ConfigurationError } from '../lib/errors.js';
import { RedisTokenStore } from '../lib/redis/index.js';
import { RATE_LIMIT_SUSPENDED } from '../lib/redis/redis-store.js';
import type { StoreEvent } from '../lib/token-store.js';
import { freePort } from './helpers/redis-server.js';
import { makeToken, scriptedRenewal } from './helpers/redis-stores.js';

const clients: Redis[] = [];
/** A client of a port where nothing listens, which gives up at once. */
function deadClient(port = 1): Redis {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  clients.push(client);
  return client;
}
afterAll(() => {
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

describe('rateLimit options', () => {
  const store = (rateLimit: unknown) => new RedisTokenStore({ redis: deadClient(), clientId: 'c', rateLimit: rateLimit as never });

  it.each([
    ['rateLimit', 40, 'Expected `rateLimit` to be an object { limit, interval } or undefined, got `40` (number)'],
    ['rateLimit', null, 'Expected `rateLimit` to be an object { limit, interval } or undefined, got `null`'],
    ['rateLimit.limit', { interval: 1000 }, 'Expected `rateLimit.limit` to be an integer from 2 to 100000, got `undefined`'],
    ['rateLimit.limit', { limit: 1, interval: 1000 }, 'Expected `rateLimit.limit` to be an integer from 2 to 100000, got `1` (number)'],
    ['rateLimit.limit', { limit: 2.5, interval: 1000 }, 'got `2.5` (number)'],
    ['rateLimit.limit', { limit: '40', interval: 1000 }, 'got `"40"` (string)'],
    ['rateLimit.interval', { limit: 40 }, 'Expected `rateLimit.interval` to be an integer from 1 to 3600000, got `undefined`'],
    ['rateLimit.interval', { limit: 40, interval: 0 }, 'got `0` (number)'],
    ['rateLimit.interval', { limit: 40, interval: Infinity }, 'got `Infinity` (number)'],
    ['rateLimit.reserve', { limit: 40, interval: 1000, reserve: 39 }, 'Expected `rateLimit.reserve` to be an integer from 0 to 38, got `39` (number)'],
    ['rateLimit.reserve', { limit: 40, interval: 1000, reserve: -1 }, 'got `-1` (number)'],
    ['intervalCap', { limit: 40, interval: 1000, intervalCap: 5 }, 'Unknown option `intervalCap` in rateLimit'],
  ])('rejects a bad `%s`, naming it: %j', (option, rateLimit, message) => {
    const error = configError(() => store(rateLimit));
    expect(error.option).toBe(option);
    expect(error.message).toContain(message);
  });

  it.each([
    [{ limit: 2, interval: 1 }],
    [{ limit: 40, interval: 1000 }],
    [{ limit: 40, interval: 1000, reserve: 0 }],
    [{ limit: 40, interval: 1000, reserve: 38 }],
  ])('accepts %j', (rateLimit) => {
    expect(() => store(rateLimit)).not.toThrow();
  });
});

describe('rateLimit without Redis', () => {
  it('renews under the local limits only, and says so in its degraded event', async () => {
    const redis = deadClient(await freePort());
    const store = new RedisTokenStore({ redis, clientId: 'c', rateLimit: { limit: 2, interval: 60_000 } });
    const events: StoreEvent[] = [];
    store.onStoreEvent((e) => events.push(e));
    // More renewals than the fleet's budget allows: with no Redis to count them, none waits.
    for (const scope of ['a', 'b', 'c']) {
      const renewal = scriptedRenewal({ fetch: async () => makeToken(scope) });
      expect((await store.coordinate(scope, renewal)).source).toBe('fetch');
      expect(renewal.bases).toEqual([undefined]);
    }
    expect(events).toEqual([{ kind: 'degraded', detail: expect.stringMatching(new RegExp(`; rateLimit: ${RATE_LIMIT_SUSPENDED}$`)) }]);
    await store.close();
  });
});
