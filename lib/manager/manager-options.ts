/**
 * The options of {@link TokenManager}, their defaults, and their validation at construction.
 */
import type { ExpiryPolicy } from './expiry.js';
import { DEFAULT_EXPIRY_MARGIN_MS, DEFAULT_REFRESH_JITTER, DEFAULT_REFRESH_WINDOW_MS } from './expiry.js';
import { ConfigurationError } from '../shared/errors.js';
import { DEFAULT_MAX_SCOPES, LruTokenStore } from '../store/lru-store.js';
import type { TimerApi } from './refresh-scheduler.js';
import type { TokenEndpointOptions } from '../endpoint/token-endpoint.js';
import {
  CLOCK_OPTION_NAMES,
  COOLDOWN_OPTION_NAMES,
  RATE_LIMIT_OPTION_NAMES,
  REFRESH_OPTION_NAMES,
  type ClockOptions,
  type CooldownOptions,
  type ManagerRateLimitOptions,
  type ManagerRefreshOptions,
  type RenewWith,
} from './option-groups.js';
import {
  ENDPOINT_OPTION_NAMES,
  REPLACED_ENDPOINT_OPTIONS,
  SEND_OPTION_NAMES,
  TokenEndpoint,
} from '../endpoint/token-endpoint.js';
import type { TokenStore } from '../store/token-store.js';
import { readGroup, rejectUnknownNames, replacedIn, type OptionNames, type ReplacedOptions } from '../shared/option-names.js';
import {
  requireFunction,
  requireNumber,
  requireOneOf,
  requireOptionsObject,
  orDefault,
} from '../shared/validate.js';

/** Default number of token requests in flight at once. */
export const DEFAULT_CONCURRENCY = 8;
/** Default first cool-down after a failed foreground request, in ms. */
export const DEFAULT_COOLDOWN_MS = 1_000;
/** Default longest cool-down, in ms. */
export const DEFAULT_MAX_COOLDOWN_MS = 30_000;

export * from './option-groups.js';


/**
 * Options of {@link TokenManager}: the endpoint's (the credentials, the URL, the answers it
 * accepts, `request` and `clock`), plus the cache's, the queue's and the refresh policy's. Related
 * options come in groups (`refresh`, `rateLimit`, `cooldown`, `clock`, `request`).
 */
export interface TokenManagerOptions extends TokenEndpointOptions {
  /**
   * How many scopes are cached; the least recently used is evicted beyond that. Ignored when a
   * `store` is given (the store has its own bound).
   * @default 10000
   */
  maxScopes?: number;
  /**
   * Where tokens are kept. Defaults to an in-memory LRU of `maxScopes` entries. Pass a shared
   * store (see `flux-token-manager/redis`) to share tokens across a fleet of processes.
   */
  store?: TokenStore;
  /**
   * How many token requests may be in flight at once, for all scopes together. Callers waiting for
   * a token go before background flights.
   * @default 8
   */
  concurrency?: number;
  /**
   * When a token is renewed, and with which grant.
   * @example refresh: { window: 120_000, margin: 10_000 } // renew 2 min before expiry, stop serving 10 s before
   */
  refresh?: ManagerRefreshOptions;
  /**
   * At most `limit` token requests start per `interval` ms, for all scopes together. Off by default.
   * Both are given, or neither.
   * @example rateLimit: { limit: 50, interval: 1000 } // at most 50 token requests per second
   */
  rateLimit?: ManagerRateLimitOptions;
  /**
   * How long a scope cools down after a failed request that callers were waiting for.
   * @example cooldown: { base: 500, max: 10_000 }
   */
  cooldown?: CooldownOptions;
  /**
   * Time and randomness, injected so that tests can drive them: the clock, the timers, and the
   * random numbers of the refresh jitter. The endpoint reads the same `now`.
   * @example clock: { now: clock.now, timers: clock.timers, random: () => 0 }
   */
  clock?: ClockOptions;
}


const WHERE = 'TokenManager options';

/** Every top-level option name, typed against {@link TokenManagerOptions}. */
export const MANAGER_OPTION_NAMES: OptionNames<TokenManagerOptions> = {
  ...ENDPOINT_OPTION_NAMES,
  maxScopes: true,
  store: true,
  concurrency: true,
  refresh: true,
  rateLimit: true,
  cooldown: true,
  clock: true,
};

/** The options of 0.1 that 0.2 moved into a group or removed, with the sentence each gets. */
export const REPLACED_MANAGER_OPTIONS: ReplacedOptions = {
  ...REPLACED_ENDPOINT_OPTIONS,
  ...replacedIn('0.2', {
    refreshWindow: 'refresh.window',
    refreshJitter: 'refresh.jitter',
    expiryMargin: 'refresh.margin',
    renewWith: 'refresh.grant',
    intervalCap: 'rateLimit.limit',
    interval: 'rateLimit.interval',
    maxCooldown: 'cooldown.max',
    timers: 'clock.timers',
    random: 'clock.random',
  }),
  refreshWithClientCredentials:
    '`refreshWithClientCredentials` was removed in 0.2: the manager sends the client credentials with every refresh once the server has refused one for want of them (see docs/other-servers.md)',
};

/** The validated settings a manager runs with. */
export interface ManagerSettings {
  endpoint: TokenEndpoint;
  store: TokenStore;
  policy: ExpiryPolicy;
  concurrency: number;
  intervalCap: number;
  interval: number;
  renewWith: RenewWith;
  cooldownMs: number;
  maxCooldownMs: number;
  now: () => number;
  timers: TimerApi | undefined;
  random: () => number;
}

function requireStore(value: unknown): TokenStore {
  const store = value as Partial<TokenStore> | null;
  const methods = ['peek', 'save', 'onEvict'] as const;
  if (typeof store !== 'object' || store === null || methods.some((m) => typeof store[m] !== 'function')) {
    throw new ConfigurationError(
      'store',
      `Expected \`store\` to implement TokenStore (${methods.join(', ')}), got ${store === null ? '`null`' : `a value of type ${typeof store}`}`,
    );
  }
  return store as TokenStore;
}

/** Validates every option and applies the defaults. Throws {@link ConfigurationError}. */
export function resolveManagerOptions(options: TokenManagerOptions): ManagerSettings {
  const o = requireOptionsObject(WHERE, options);
  rejectUnknownNames(WHERE, '', o, MANAGER_OPTION_NAMES, REPLACED_MANAGER_OPTIONS);
  const refresh = readGroup(WHERE, 'refresh', o.refresh, REFRESH_OPTION_NAMES);
  const cooldown = readGroup(WHERE, 'cooldown', o.cooldown, COOLDOWN_OPTION_NAMES, {
    hint: 'the number `cooldown` of 0.1 was replaced by `cooldown.base` in 0.2',
  });
  const clock = readGroup(WHERE, 'clock', o.clock, CLOCK_OPTION_NAMES);
  // The endpoint checks the values of `request`; its names are checked here, to be reported as the manager's.
  readGroup(WHERE, 'request', o.request, SEND_OPTION_NAMES);
  const now = clock.now === undefined ? Date.now : requireFunction<() => number>('clock.now', clock.now);

  const endpointOptions: Record<string, unknown> = {};
  for (const key of Object.keys(ENDPOINT_OPTION_NAMES)) if (o[key] !== undefined) endpointOptions[key] = o[key];
  endpointOptions.clock = { now };
  const endpoint = new TokenEndpoint(endpointOptions as unknown as TokenEndpointOptions);

  const expiryMarginMs = requireNumber('refresh.margin', orDefault(refresh.margin, DEFAULT_EXPIRY_MARGIN_MS), { min: 0 });
  const refreshWindowMs = requireNumber('refresh.window', orDefault(refresh.window, DEFAULT_REFRESH_WINDOW_MS), { min: 0 });
  if (refreshWindowMs <= expiryMarginMs) {
    throw new ConfigurationError(
      'refresh.window',
      `Expected \`refresh.window\` (${refreshWindowMs} ms) to be greater than \`refresh.margin\` (${expiryMarginMs} ms), so that a token is renewed before it stops being handed out`,
    );
  }
  const jitter = requireNumber('refresh.jitter', orDefault(refresh.jitter, DEFAULT_REFRESH_JITTER), { min: 0, max: 1 });
  const renewWith = requireOneOf<RenewWith>('refresh.grant', orDefault(refresh.grant, 'refresh_token'), ['refresh_token', 'client_credentials']);

  const { intervalCap, interval } = resolveRateLimit(o.rateLimit);
  const cooldownMs = requireNumber('cooldown.base', orDefault(cooldown.base, DEFAULT_COOLDOWN_MS), { min: 0 });
  const maxCooldownMs = requireNumber('cooldown.max', orDefault(cooldown.max, DEFAULT_MAX_COOLDOWN_MS), { min: cooldownMs });

  let store: TokenStore;
  if (o.store !== undefined) {
    if (o.maxScopes !== undefined) {
      throw new ConfigurationError('maxScopes', 'Expected `maxScopes` to be omitted when `store` is given: the store has its own bound');
    }
    store = requireStore(o.store);
  } else {
    store = new LruTokenStore({
      maxScopes: requireNumber('maxScopes', orDefault(o.maxScopes, DEFAULT_MAX_SCOPES), { min: 1, max: 10_000_000, integer: true }),
    });
  }

  let timers: TimerApi | undefined;
  if (clock.timers !== undefined) {
    const t = requireOptionsObject('clock.timers', clock.timers);
    requireFunction('clock.timers.setTimeout', t.setTimeout);
    requireFunction('clock.timers.clearTimeout', t.clearTimeout);
    timers = t as unknown as TimerApi;
  }

  return {
    endpoint,
    store,
    policy: { expiryMarginMs, refreshWindowMs, jitter },
    concurrency: requireNumber('concurrency', orDefault(o.concurrency, DEFAULT_CONCURRENCY), { min: 1, max: 1000, integer: true }),
    intervalCap,
    interval,
    renewWith,
    cooldownMs,
    maxCooldownMs,
    now,
    timers,
    random: clock.random === undefined ? Math.random : requireFunction<() => number>('clock.random', clock.random),
  };
}

/** `rateLimit`, both or neither: no limit (an infinite cap) when it is left out. */
function resolveRateLimit(value: unknown): { intervalCap: number; interval: number } {
  if (value === undefined) return { intervalCap: Number.POSITIVE_INFINITY, interval: 0 };
  const rateLimit = readGroup(WHERE, 'rateLimit', value, RATE_LIMIT_OPTION_NAMES, {
    hint: 'the `intervalCap` and `interval` of 0.1 were replaced by `rateLimit.limit` and `rateLimit.interval` in 0.2',
  });
  if ((rateLimit.limit === undefined) !== (rateLimit.interval === undefined)) {
    const given = rateLimit.limit === undefined ? 'rateLimit.interval' : 'rateLimit.limit';
    const missing = rateLimit.limit === undefined ? 'rateLimit.limit' : 'rateLimit.interval';
    throw new ConfigurationError(missing, `Expected \`rateLimit.limit\` and \`rateLimit.interval\` to be given together, got only \`${given}\``);
  }
  return {
    intervalCap: requireNumber('rateLimit.limit', rateLimit.limit, { min: 1, integer: true }),
    interval: requireNumber('rateLimit.interval', rateLimit.interval, { min: 1, integer: true }),
  };
}
