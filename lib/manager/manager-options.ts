/**
 * The options of {@link TokenManager}, their defaults, and their validation at construction.
 */
import type { ExpiryPolicy } from './expiry.js';
import { DEFAULT_EXPIRY_MARGIN_MS, DEFAULT_REFRESH_JITTER, DEFAULT_REFRESH_WINDOW_MS } from './expiry.js';
import { ConfigurationError } from '../shared/errors.js';
import { DEFAULT_MAX_SCOPES, LruTokenStore } from '../store/lru-store.js';
import type { TimerApi } from './refresh-scheduler.js';
import type { TokenEndpointOptions } from '../endpoint/token-endpoint.js';
import { ENDPOINT_OPTION_KEYS, TokenEndpoint } from '../endpoint/token-endpoint.js';
import type { TokenStore } from '../store/token-store.js';
import {
  rejectUnknownOptions,
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

/** How a token that has a refresh token is renewed. */
export type RenewWith = 'refresh_token' | 'client_credentials';

/** Options of {@link TokenManager}: the endpoint's, plus the cache's and the queue's. */
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
   * A token is no longer handed out when less than this is left of its life, in ms. Capped at 10%
   * of the token's lifetime, so that short tokens stay usable. Covers clock skew and the time a
   * request takes to reach the API.
   * @default 30000
   */
  expiryMargin?: number;
  /**
   * How long before expiry a token is refreshed in the background, in ms, while callers keep getting
   * the current one without waiting. Capped at 25% of the token's lifetime. Must exceed
   * `expiryMargin`.
   * @default 300000
   */
  refreshWindow?: number;
  /**
   * Fraction (0 to 1) of the refresh window by which each token's refresh ahead of expiry is
   * randomly delayed, so that tokens issued together are not refreshed together.
   * @default 0.1
   */
  refreshJitter?: number;
  /**
   * How many token requests may be in flight at once, for all scopes together. Callers waiting for
   * a token go before background flights.
   * @default 8
   */
  concurrency?: number;
  /**
   * With `interval`: at most this many token requests start per `interval` ms. Off by default.
   * @example { intervalCap: 50, interval: 1000 } // at most 50 token requests per second
   */
  intervalCap?: number;
  /** The rate limit's period, in ms; see `intervalCap`. */
  interval?: number;
  /**
   * How a token that carries a refresh token is renewed. With `refresh_token`, the refresh grant
   * is used and the rotated refresh token kept; if the endpoint refuses it (any non-retryable
   * RFC 6749 `error` code whatever the HTTP status, a 200 `{"error":"invalid_grant"}` included, or
   * a bare 4xx), or answers with a token for another scope (`scope_mismatch`), the manager falls
   * back once to `client_credentials` for that user and never sends that refresh token again. With
   * `client_credentials`, refresh tokens are ignored.
   * @default 'refresh_token'
   */
  renewWith?: RenewWith;
  /**
   * After a failed request that callers were waiting for, the scope cools down for this long (ms).
   * After a refusal the server will repeat (`invalid_grant`, `invalid_client`, ...) or a
   * `Retry-After`, later callers of the scope get the same error meanwhile instead of each hitting
   * the endpoint again. After a transient failure (5xx, timeout, malformed answer) the cool-down is
   * half-open: one probe request at a time, which every caller of the scope joins, finds out
   * whether the endpoint is back, so that no caller who comes after it recovered gets an error.
   * Refreshes ahead of expiry wait the cool-down out. Doubles on each further failure, up to
   * `maxCooldown`; failures of requests that overlapped in time count once. An `invalid_client` answer to a request that carried the
   * client credentials cools the whole client down. The same pace applies to the replacement of a
   * token the API rejected, when the replacement is itself rejected (401 loop protection).
   * @default 1000
   */
  cooldown?: number;
  /** The longest cool-down, in ms. @default 30000 */
  maxCooldown?: number;
  /** Timer functions, injectable for tests. @default the global setTimeout and clearTimeout */
  timers?: TimerApi;
  /** Random numbers in [0, 1), for jitter; injectable for tests. @default Math.random */
  random?: () => number;
}

const MANAGER_KEYS = [
  'maxScopes',
  'store',
  'expiryMargin',
  'refreshWindow',
  'refreshJitter',
  'concurrency',
  'intervalCap',
  'interval',
  'renewWith',
  'cooldown',
  'maxCooldown',
  'timers',
  'random',
] as const;


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
  const o = requireOptionsObject('TokenManager options', options);
  rejectUnknownOptions('TokenManager options', o, [...ENDPOINT_OPTION_KEYS, ...MANAGER_KEYS]);

  const endpointOptions: Record<string, unknown> = {};
  for (const key of ENDPOINT_OPTION_KEYS) if (o[key] !== undefined) endpointOptions[key] = o[key];
  const endpoint = new TokenEndpoint(endpointOptions as unknown as TokenEndpointOptions);

  const expiryMarginMs = requireNumber('expiryMargin', orDefault(o.expiryMargin, DEFAULT_EXPIRY_MARGIN_MS), { min: 0 });
  const refreshWindowMs = requireNumber('refreshWindow', orDefault(o.refreshWindow, DEFAULT_REFRESH_WINDOW_MS), { min: 0 });
  if (refreshWindowMs <= expiryMarginMs) {
    throw new ConfigurationError(
      'refreshWindow',
      `Expected \`refreshWindow\` (${refreshWindowMs} ms) to be greater than \`expiryMargin\` (${expiryMarginMs} ms), so that a token is renewed before it stops being handed out`,
    );
  }
  const jitter = requireNumber('refreshJitter', orDefault(o.refreshJitter, DEFAULT_REFRESH_JITTER), { min: 0, max: 1 });

  if ((o.intervalCap === undefined) !== (o.interval === undefined)) {
    const missing = o.intervalCap === undefined ? 'intervalCap' : 'interval';
    throw new ConfigurationError(missing, `Expected \`intervalCap\` and \`interval\` to be given together, got only one of them`);
  }
  const cooldownMs = requireNumber('cooldown', orDefault(o.cooldown, DEFAULT_COOLDOWN_MS), { min: 0 });
  const maxCooldownMs = requireNumber('maxCooldown', orDefault(o.maxCooldown, DEFAULT_MAX_COOLDOWN_MS), { min: cooldownMs });

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
  if (o.timers !== undefined) {
    const t = requireOptionsObject('timers', o.timers);
    requireFunction('timers.setTimeout', t.setTimeout);
    requireFunction('timers.clearTimeout', t.clearTimeout);
    timers = t as unknown as TimerApi;
  }

  return {
    endpoint,
    store,
    policy: { expiryMarginMs, refreshWindowMs, jitter },
    concurrency: requireNumber('concurrency', orDefault(o.concurrency, DEFAULT_CONCURRENCY), { min: 1, max: 1000, integer: true }),
    intervalCap:
      o.intervalCap === undefined ? Number.POSITIVE_INFINITY : requireNumber('intervalCap', o.intervalCap, { min: 1, integer: true }),
    interval: o.interval === undefined ? 0 : requireNumber('interval', o.interval, { min: 1, integer: true }),
    renewWith: requireOneOf<RenewWith>('renewWith', orDefault(o.renewWith, 'refresh_token'), ['refresh_token', 'client_credentials']),
    cooldownMs,
    maxCooldownMs,
    now: o.now === undefined ? Date.now : (o.now as () => number),
    timers,
    random: o.random === undefined ? Math.random : requireFunction<() => number>('random', o.random),
  };
}
