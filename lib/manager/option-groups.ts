/**
 * The option groups of `TokenManager` (`refresh`, `rateLimit`, `cooldown`, `clock`; `request`
 * is the endpoint's), and the names of each, typed against its interface. Apart from the
 * manager's top level (manager-options.ts) so that each group reads as its own reference.
 */
import type { EndpointClockOptions } from '../endpoint/token-endpoint.js';
import { ENDPOINT_CLOCK_NAMES } from '../endpoint/token-endpoint.js';
import type { OptionNames } from '../shared/option-names.js';
import type { TimerApi } from './refresh-scheduler.js';

/** How a token that has a refresh token is renewed. */
export type RenewWith = 'refresh_token' | 'client_credentials';

/** When a token is renewed, and with which grant; see `TokenManagerOptions.refresh`. */
export interface ManagerRefreshOptions {
  /**
   * How long before expiry a token is refreshed in the background, in ms, while callers keep getting
   * the current one without waiting. Capped at 25% of the token's lifetime. Must exceed `margin`.
   * @default 300000
   */
  window?: number;
  /**
   * Fraction (0 to 1) of the refresh window by which each token's refresh ahead of expiry is
   * randomly delayed, so that tokens issued together are not refreshed together.
   * @default 0.1
   */
  jitter?: number;
  /**
   * A token is no longer handed out when less than this is left of its life, in ms. Capped at 10%
   * of the token's lifetime, so that short tokens stay usable. Covers clock skew and the time a
   * request takes to reach the API.
   * @default 30000
   */
  margin?: number;
  /**
   * How a token that carries a refresh token is renewed. With `refresh_token`, the refresh grant
   * is used and the rotated refresh token kept; if the endpoint refuses it (any non-retryable
   * RFC 6749 `error` code whatever the HTTP status, a 200 `{"error":"invalid_grant"}` included, or
   * a bare 4xx), or answers with a token for another scope (`scope_mismatch`), the manager falls
   * back once to `client_credentials` for that user and never sends that refresh token again. A
   * refresh refused for want of client authentication (`invalid_client`, `invalid_request` or
   * `unauthorized_client` to a refresh sent without the credentials) makes every later refresh
   * carry them. With `client_credentials`, refresh tokens are ignored.
   * @default 'refresh_token'
   */
  grant?: RenewWith;
}

/** The budget on the token endpoint; see `TokenManagerOptions.rateLimit`. */
export interface ManagerRateLimitOptions {
  /** At most this many token requests start in any `interval`. An integer from 1. */
  limit: number;
  /** The rate limit's period, in ms. An integer from 1. */
  interval: number;
}

/** The cool-down after failures; see `TokenManagerOptions.cooldown`. */
export interface CooldownOptions {
  /**
   * After a failed request that callers were waiting for, the scope cools down for this long (ms).
   * After a refusal the server will repeat (`invalid_grant`, `invalid_client`, ...) or a
   * `Retry-After`, later callers of the scope get the same error meanwhile instead of each hitting
   * the endpoint again. After a transient failure (5xx, timeout, malformed answer) the cool-down is
   * half-open: one probe request at a time, which every caller of the scope joins, finds out
   * whether the endpoint is back, so that no caller who comes after it recovered gets an error.
   * Refreshes ahead of expiry wait the cool-down out. Doubles on each further failure, up to
   * `max`; failures of requests that overlapped in time count once. An `invalid_client` answer to
   * a request that carried the client credentials cools the whole client down. The same pace
   * applies to the replacement of a token the API rejected, when the replacement is itself
   * rejected (401 loop protection).
   * @default 1000
   */
  base?: number;
  /** The longest cool-down, in ms. At least `base`. @default 30000 */
  max?: number;
}

/** Time and randomness; see `TokenManagerOptions.clock`. */
export interface ClockOptions extends EndpointClockOptions {
  /** Timer functions. @default the global setTimeout and clearTimeout */
  timers?: TimerApi;
  /** Random numbers in [0, 1), for the refresh jitter. @default Math.random */
  random?: () => number;
}

/** The names of each group, typed against its interface: construction refuses any other. */
export const REFRESH_OPTION_NAMES: OptionNames<ManagerRefreshOptions> = { window: true, jitter: true, margin: true, grant: true };
export const RATE_LIMIT_OPTION_NAMES: OptionNames<ManagerRateLimitOptions> = { limit: true, interval: true };
export const COOLDOWN_OPTION_NAMES: OptionNames<CooldownOptions> = { base: true, max: true };
export const CLOCK_OPTION_NAMES: OptionNames<ClockOptions> = { ...ENDPOINT_CLOCK_NAMES, timers: true, random: true };
