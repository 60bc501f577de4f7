// The manager's options at construction: 15 names at the top, the related ones in groups
// (`refresh`, `rateLimit`, `cooldown`, `clock`, `request`). Every bad value is refused with a
// ConfigurationError naming the option by its full path; an unknown name is refused at the top and
// inside each group, with the known ones; an option of 0.1 is told where it went.
import { describe, expect, it } from '@jest/globals';
import { ConfigurationError } from '../lib/shared/errors.js';
import { LruTokenStore } from '../lib/store/lru-store.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import { MANAGER_OPTION_NAMES, resolveManagerOptions, type TokenManagerOptions } from '../lib/manager/manager-options.js';

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

/** `{ refresh: { window: value } }` for `'refresh.window'`; `{ maxScopes: value }` for `'maxScopes'`. */
function atPath(path: string, value: unknown): Record<string, unknown> {
  const [group, key] = path.split('.');
  return key === undefined ? { [group!]: value } : { [group!]: { [key]: value } };
}

const settingsOf = (options: Partial<TokenManagerOptions> = {}) => resolveManagerOptions({ ...BASE, ...options });

describe('the top level', () => {
  it('has 15 names, the groups among them', () => {
    expect(Object.keys(MANAGER_OPTION_NAMES).sort()).toEqual(
      [
        'clientId',
        'clientSecret',
        'tokenUrl',
        'clientAuth',
        'tokenParams',
        'requireUserBinding',
        'defaultExpiresIn',
        'store',
        'maxScopes',
        'concurrency',
        'refresh',
        'rateLimit',
        'cooldown',
        'clock',
        'request',
      ].sort(),
    );
  });

  it('refuses an unknown name, listing the known ones', () => {
    const error = configurationErrorOf({ maxScope: 10 });
    expect(error.option).toBe('maxScope');
    expect(error.message).toBe(
      `Unknown option \`maxScope\` in TokenManager options (known options: ${Object.keys(MANAGER_OPTION_NAMES)
        .map((name) => `\`${name}\``)
        .join(', ')})`,
    );
  });

  it('refuses options that are not an object', () => {
    for (const value of [null, 'client-1', 42, []]) {
      expect(() => new TokenManager(value as unknown as TokenManagerOptions)).toThrow(ConfigurationError);
    }
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

describe('the defaults', () => {
  it('with no group given', () => {
    const s = settingsOf();
    expect(s.policy).toEqual({ expiryMarginMs: 30_000, refreshWindowMs: 300_000, jitter: 0.1 });
    expect(s.renewWith).toBe('refresh_token');
    expect([s.intervalCap, s.interval]).toEqual([Number.POSITIVE_INFINITY, 0]);
    expect([s.cooldownMs, s.maxCooldownMs]).toEqual([1_000, 30_000]);
    expect([s.now, s.timers, s.random]).toEqual([Date.now, undefined, Math.random]);
    expect([s.endpoint.timeout, s.endpoint.retry]).toEqual([10_000, 2]);
    expect(s.concurrency).toBe(8);
  });

  it('for the names a group leaves out, each given name replacing only its own default', () => {
    const now = () => 42;
    const s = settingsOf({
      refresh: { window: 120_000 },
      cooldown: { max: 5_000 },
      clock: { now },
      request: { retry: 0 },
    });
    expect(s.policy).toEqual({ expiryMarginMs: 30_000, refreshWindowMs: 120_000, jitter: 0.1 });
    expect(s.renewWith).toBe('refresh_token');
    expect([s.cooldownMs, s.maxCooldownMs]).toEqual([1_000, 5_000]);
    expect([s.now, s.timers, s.random]).toEqual([now, undefined, Math.random]);
    expect([s.endpoint.timeout, s.endpoint.retry]).toEqual([10_000, 0]);
  });

  it('carries each group to the settings the manager runs with', () => {
    const timers = { setTimeout: () => 0, clearTimeout: () => {} };
    const random = () => 0.25;
    const s = settingsOf({
      refresh: { window: 60_000, jitter: 0.5, margin: 5_000, grant: 'client_credentials' },
      rateLimit: { limit: 40, interval: 1_000 },
      cooldown: { base: 200, max: 400 },
      clock: { timers, random },
      request: { timeout: 2_000 },
    });
    expect(s.policy).toEqual({ expiryMarginMs: 5_000, refreshWindowMs: 60_000, jitter: 0.5 });
    expect(s.renewWith).toBe('client_credentials');
    expect([s.intervalCap, s.interval]).toEqual([40, 1_000]);
    expect([s.cooldownMs, s.maxCooldownMs]).toEqual([200, 400]);
    expect([s.timers, s.random]).toEqual([timers, random]);
    expect(s.endpoint.timeout).toBe(2_000);
  });
});

describe('a bad value', () => {
  it.each([
    ['maxScopes', 0],
    ['maxScopes', null],
    ['maxScopes', 1.5],
    ['maxScopes', '100'],
    ['maxScopes', -1],
    ['maxScopes', Number.POSITIVE_INFINITY],
    ['store', {}],
    ['store', null],
    ['store', 'redis://localhost'],
    ['store', { peek() {}, load() {}, save() {}, delete() {} }],
    ['concurrency', null],
    ['concurrency', 0],
    ['concurrency', 2.5],
    ['concurrency', 1001],
    ['concurrency', '8'],
    ['clientId', ''],
    ['clientId', 42],
    ['clientSecret', ''],
    ['tokenUrl', 'http://auth.example.com/token'],
    ['tokenUrl', 'not a url'],
    ['refresh.margin', -1],
    ['refresh.margin', Number.NaN],
    ['refresh.margin', '30000'],
    ['refresh.window', -5],
    ['refresh.window', '300000'],
    ['refresh.jitter', -0.1],
    ['refresh.jitter', 1.5],
    ['refresh.jitter', '0.1'],
    ['refresh.grant', 'password'],
    ['refresh.grant', 1],
    ['cooldown.base', -1],
    ['cooldown.base', '1s'],
    ['cooldown.max', -1],
    ['cooldown.max', '30s'],
    ['clock.timers', 'fake'],
    ['clock.random', 0.5],
    ['clock.now', 1_700_000_000_000],
    ['request.timeout', null],
    ['request.timeout', 0],
    ['request.retry', -1],
    ['request.retry', 1.5],
    ['request.got', {}],
  ])('`%s: %p` is refused with a message that names the option by its full path', (path, value) => {
    const error = configurationErrorOf(atPath(path, value));
    expect(error.code).toBe('FLUX_CONFIG_INVALID');
    expect(error.option).toBe(path);
    expect(error.message).toContain(`\`${path}\``);
  });

  it.each([
    [{ rateLimit: { limit: 10 } }, 'rateLimit.interval', 'Expected `rateLimit.limit` and `rateLimit.interval` to be given together, got only `rateLimit.limit`'],
    [{ rateLimit: { interval: 1000 } }, 'rateLimit.limit', 'Expected `rateLimit.limit` and `rateLimit.interval` to be given together, got only `rateLimit.interval`'],
    [{ rateLimit: {} }, 'rateLimit.limit', 'Expected `rateLimit.limit` to be an integer from 1 and up, got `undefined`'],
    [{ rateLimit: { limit: 0, interval: 1000 } }, 'rateLimit.limit', 'Expected `rateLimit.limit` to be an integer from 1 and up, got `0` (number)'],
    [{ rateLimit: { limit: 1.5, interval: 1000 } }, 'rateLimit.limit', 'Expected `rateLimit.limit` to be an integer from 1 and up, got `1.5` (number)'],
    [{ rateLimit: { limit: 10, interval: 0 } }, 'rateLimit.interval', 'Expected `rateLimit.interval` to be an integer from 1 and up, got `0` (number)'],
    [{ rateLimit: { limit: 10, interval: '1s' } }, 'rateLimit.interval', 'Expected `rateLimit.interval` to be an integer from 1 and up, got `"1s"` (string)'],
    [{ refresh: { margin: 60_000, window: 60_000 } }, 'refresh.window', 'Expected `refresh.window` (60000 ms) to be greater than `refresh.margin` (60000 ms)'],
    [{ refresh: { margin: 60_000, window: 30_000 } }, 'refresh.window', 'Expected `refresh.window` (30000 ms) to be greater than `refresh.margin` (60000 ms)'],
    [{ refresh: { margin: 400_000 } }, 'refresh.window', 'Expected `refresh.window` (300000 ms) to be greater than `refresh.margin` (400000 ms)'],
    [{ cooldown: { base: 5_000, max: 1_000 } }, 'cooldown.max', 'Expected `cooldown.max` to be a finite number from 5000 and up, got `1000` (number)'],
    [{ cooldown: { base: 60_000 } }, 'cooldown.max', 'Expected `cooldown.max` to be a finite number from 60000 and up, got `30000` (number)'],
    [{ clock: { timers: { setTimeout: 1, clearTimeout() {} } } }, 'clock.timers.setTimeout', 'Expected `clock.timers.setTimeout` to be a function, got `1` (number)'],
    [{ clock: { timers: { setTimeout() {} } } }, 'clock.timers.clearTimeout', 'Expected `clock.timers.clearTimeout` to be a function, got `undefined`'],
    [{ store: new LruTokenStore(), maxScopes: 10 }, 'maxScopes', 'Expected `maxScopes` to be omitted when `store` is given'],
  ])('%p is refused, naming `%s`', (options, option, message) => {
    const error = configurationErrorOf(options);
    expect(error.code).toBe('FLUX_CONFIG_INVALID');
    expect(error.option).toBe(option);
    expect(error.message).toContain(message);
  });

  it('never echoes the client secret in a configuration error', () => {
    const error = configurationErrorOf({ clientSecret: 12345678 });
    expect(error.option).toBe('clientSecret');
    expect(error.message).not.toContain('12345678');
    const other = configurationErrorOf({ maxScopes: 0 });
    expect(other.message).not.toContain('secret-value-1');
    expect(JSON.stringify(other)).not.toContain('secret-value-1');
    const inGroup = configurationErrorOf({ request: { secret: 'secret-value-1' } });
    expect(inGroup.message).not.toContain('secret-value-1');
  });
});

describe('each group', () => {
  it.each([
    ['refresh', 'refresh.windw', ['refresh.window', 'refresh.jitter', 'refresh.margin', 'refresh.grant']],
    ['rateLimit', 'rateLimit.reserve', ['rateLimit.limit', 'rateLimit.interval']],
    ['cooldown', 'cooldown.maxMs', ['cooldown.base', 'cooldown.max']],
    ['clock', 'clock.setTimeout', ['clock.now', 'clock.timers', 'clock.random']],
    ['request', 'request.retries', ['request.timeout', 'request.retry', 'request.got']],
  ])('`%s` refuses an unknown name by its full path, listing the known ones by theirs', (_group, path, known) => {
    const error = configurationErrorOf(atPath(path, 1));
    expect(error.option).toBe(path);
    expect(error.message).toBe(`Unknown option \`${path}\` in TokenManager options (known options: ${known.map((k) => `\`${k}\``).join(', ')})`);
  });

  it.each([
    ['refresh', 300_000, '{ window, jitter, margin, grant }'],
    ['rateLimit', null, '{ limit, interval }'],
    ['cooldown', [1_000], '{ base, max }'],
    ['clock', Date.now, '{ now, timers, random }'],
    ['request', 'fast', '{ timeout, retry, got }'],
  ])('`%s` that is not an object is refused, naming its shape', (group, value, shape) => {
    const error = configurationErrorOf({ [group]: value });
    expect(error.option).toBe(group);
    expect(error.message).toContain(`Expected \`${group}\` to be an object ${shape} or undefined, got `);
  });

  it('an empty group takes every default', () => {
    const s = settingsOf({ refresh: {}, cooldown: {}, clock: {}, request: {} });
    expect(s.policy).toEqual(settingsOf().policy);
    expect([s.cooldownMs, s.maxCooldownMs, s.now, s.endpoint.retry]).toEqual([1_000, 30_000, Date.now, 2]);
  });
});

describe('an option of 0.1', () => {
  it.each([
    ['refreshWindow', 60_000, 'refresh.window'],
    ['refreshJitter', 0.1, 'refresh.jitter'],
    ['expiryMargin', 10_000, 'refresh.margin'],
    ['renewWith', 'client_credentials', 'refresh.grant'],
    ['intervalCap', 10, 'rateLimit.limit'],
    ['interval', 1_000, 'rateLimit.interval'],
    ['maxCooldown', 30_000, 'cooldown.max'],
    ['now', Date.now, 'clock.now'],
    ['timers', { setTimeout, clearTimeout }, 'clock.timers'],
    ['random', Math.random, 'clock.random'],
    ['timeout', 5_000, 'request.timeout'],
    ['retry', 0, 'request.retry'],
    ['got', () => undefined, 'request.got'],
  ])('`%s` is told its new place', (option, value, place) => {
    const error = configurationErrorOf({ [option]: value });
    expect(error.option).toBe(option);
    expect(error.message).toBe(`\`${option}\` was replaced by \`${place}\` in 0.2`);
  });

  it('a number for `cooldown` is told that it went to `cooldown.base`', () => {
    const error = configurationErrorOf({ cooldown: 1_000 });
    expect(error.option).toBe('cooldown');
    expect(error.message).toBe(
      'Expected `cooldown` to be an object { base, max } or undefined, got `1000` (number): the number `cooldown` of 0.1 was replaced by `cooldown.base` in 0.2',
    );
  });

  it('`refreshWithClientCredentials` is told that the manager learns it now', () => {
    const error = configurationErrorOf({ refreshWithClientCredentials: true });
    expect(error.option).toBe('refreshWithClientCredentials');
    expect(error.message).toMatch(/^`refreshWithClientCredentials` was removed in 0\.2: the manager sends the client credentials with every refresh once the server has refused one for want of them/);
  });
});
