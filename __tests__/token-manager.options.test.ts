import { describe, expect, it } from '@jest/globals';
import { ConfigurationError } from '../lib/shared/errors.js';
import { LruTokenStore } from '../lib/store/lru-store.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import type { TokenManagerOptions } from '../lib/manager/manager-options.js';

const BASE = { clientId: 'client-1', clientSecret: 'secret-value-1', tokenUrl: 'http://127.0.0.1:9/auth/oauth/token' };

function configurationErrorOf(options: Record<string, unknown>): ConfigurationError {
  try {
    const manager = new TokenManager({ ...BASE, ...options } as unknown as TokenManagerOptions);
    void manager.close();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error(`no ConfigurationError for ${JSON.stringify(options)}`);
}

describe('options validation', () => {
  it.each([
    ['maxScopes', 0],
    ['maxScopes', null],
    ['timeout', null],
    ['concurrency', null],
    ['maxScopes', 1.5],
    ['maxScopes', '100'],
    ['maxScopes', -1],
    ['maxScopes', Number.POSITIVE_INFINITY],
    ['store', {}],
    ['store', null],
    ['store', 'redis://localhost'],
    ['store', { peek() {}, load() {}, save() {}, delete() {} }],
    ['expiryMargin', -1],
    ['expiryMargin', Number.NaN],
    ['expiryMargin', '30000'],
    ['refreshWindow', -5],
    ['refreshWindow', '300000'],
    ['refreshJitter', -0.1],
    ['refreshJitter', 1.5],
    ['refreshJitter', '0.1'],
    ['concurrency', 0],
    ['concurrency', 2.5],
    ['concurrency', 1001],
    ['concurrency', '8'],
    ['renewWith', 'password'],
    ['renewWith', 1],
    ['cooldown', -1],
    ['cooldown', '1s'],
    ['maxCooldown', -1],
    ['maxCooldown', '30s'],
    ['timers', 'fake'],
    ['random', 0.5],
    ['now', 1_700_000_000_000],
    ['clientId', ''],
    ['clientId', 42],
    ['clientSecret', ''],
    ['tokenUrl', 'http://auth.example.com/token'],
    ['tokenUrl', 'not a url'],
    ['timeout', 0],
    ['retry', -1],
    ['retry', 1.5],
    ['refreshWithClientCredentials', 'yes'],
    ['got', {}],
  ])('`%s: %p` is refused with a ConfigurationError that names the option', (option, value) => {
    const error = configurationErrorOf({ [option]: value });
    expect(error.code).toBe('FLUX_CONFIG_INVALID');
    expect(error.option).toBe(option);
    expect(error.message).toContain(`\`${option}\``);
  });

  it.each([
    [{ intervalCap: 10 }, 'interval'],
    [{ interval: 1000 }, 'intervalCap'],
    [{ intervalCap: 0, interval: 1000 }, 'intervalCap'],
    [{ intervalCap: 1.5, interval: 1000 }, 'intervalCap'],
    [{ intervalCap: 10, interval: 0 }, 'interval'],
    [{ intervalCap: 10, interval: '1s' }, 'interval'],
    [{ expiryMargin: 60_000, refreshWindow: 60_000 }, 'refreshWindow'],
    [{ expiryMargin: 60_000, refreshWindow: 30_000 }, 'refreshWindow'],
    [{ cooldown: 5_000, maxCooldown: 1_000 }, 'maxCooldown'],
    [{ timers: { setTimeout: 1, clearTimeout() {} } }, 'timers.setTimeout'],
    [{ timers: { setTimeout() {} } }, 'timers.clearTimeout'],
    [{ store: new LruTokenStore(), maxScopes: 10 }, 'maxScopes'],
    [{ maxScope: 10 }, 'maxScope'],
  ])('%p is refused, naming `%s`', (options, option) => {
    const error = configurationErrorOf(options);
    expect(error.code).toBe('FLUX_CONFIG_INVALID');
    expect(error.option).toBe(option);
    expect(error.message).toContain(`\`${option}\``);
  });

  it('refuses options that are not an object', () => {
    for (const value of [null, 'client-1', 42, []]) {
      expect(() => new TokenManager(value as unknown as TokenManagerOptions)).toThrow(ConfigurationError);
    }
  });

  it('never echoes the client secret in a configuration error', () => {
    const error = configurationErrorOf({ clientSecret: 12345678 });
    expect(error.option).toBe('clientSecret');
    expect(error.message).not.toContain('12345678');
    const other = configurationErrorOf({ maxScopes: 0 });
    expect(other.message).not.toContain('secret-value-1');
    expect(JSON.stringify(other)).not.toContain('secret-value-1');
  });

  it('accepts every option at a valid value', async () => {
    const manager = new TokenManager({
      ...BASE,
      maxScopes: 5,
      refresh: { margin: 0, window: 1, jitter: 1, grant: 'client_credentials' },
      concurrency: 1000,
      rateLimit: { limit: 1, interval: 1 },
      cooldown: { base: 0, max: 0 },
      clock: { timers: { setTimeout: () => 0, clearTimeout: () => {} }, random: () => 0.5, now: () => 0 },
      request: { timeout: 1, retry: 0 },
    });
    expect(manager.stats().cached).toBe(0);
    await manager.close();
  });
});
