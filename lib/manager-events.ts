/**
 * The events a {@link TokenManager} emits, and the shape of its `stats()`. Payloads are meant for
 * logs and metrics: they name scopes (user ids), grants and times, never a token or a secret.
 */
import type { FluxTokenError } from './errors.js';
import type { StoreEvent } from './token-store.js';

/** How a token was obtained: from the endpoint with a grant, or from a shared store. */
export type TokenSourceKind = 'client_credentials' | 'refresh_token' | 'store';

/** Payload of `token`: a new token is cached for a scope. */
export interface TokenEvent {
  /** The user id, or undefined for the client-wide token. */
  scope: string | undefined;
  /** How it was obtained. */
  grant: TokenSourceKind;
  /** True when no caller was waiting for it (a renewal ahead of expiry). */
  background: boolean;
  /** Its lifetime in seconds. */
  expiresIn: number;
  /** When it expires, in ms since the epoch. */
  expiresAt: number;
}

/** Payload of `refreshFailed`: a token request failed. */
export interface RefreshFailedEvent {
  /** The user id, or undefined for the client-wide token. */
  scope: string | undefined;
  /** The grant that failed. */
  grant: 'client_credentials' | 'refresh_token';
  /** True when no caller was waiting (the current token is still being served). */
  background: boolean;
  /** The typed error; safe to log (it holds no secret). */
  error: FluxTokenError;
  /**
   * What happens next: `retry` (a background renewal is retried at `retryAt`), `fallback` (the
   * refresh token was refused and the client-credentials grant is tried), or `give-up`.
   */
  next: 'retry' | 'fallback' | 'give-up';
  /** With `next: 'retry'`, when the next attempt is due, in ms since the epoch. */
  retryAt?: number;
}

/**
 * Payload of `refreshAuthentication`, emitted once: the server refused a refresh request that
 * carried no client credentials in a way that says it wants them (`invalid_client`,
 * `invalid_request` or `unauthorized_client`). That scope fell back to the client-credentials
 * grant, and from now on refresh requests carry the client credentials (as with
 * `refreshWithClientCredentials: true`, which avoids this one-time step).
 */
export interface RefreshAuthenticationEvent {
  /** The scope whose refresh was refused. */
  scope: string | undefined;
  /** The server's refusal; safe to log. */
  error: FluxTokenError;
}

/** Payload of `evicted`: the store dropped a scope to respect its bound. */
export interface EvictedEvent {
  /** The user id, or undefined for the client-wide token. */
  scope: string | undefined;
  /** Why it was dropped. */
  reason: 'evict' | 'expire';
}

/** Every event of a TokenManager, by name. */
export interface TokenManagerEvents {
  token: TokenEvent;
  refreshFailed: RefreshFailedEvent;
  evicted: EvictedEvent;
  refreshAuthentication: RefreshAuthenticationEvent;
  /** News from a shared store (see `StoreEvent`): it degraded to local-only, recovered, or rejected a value. */
  store: StoreEvent;
}

/** Counters and gauges of a TokenManager, from `stats()`. */
export interface TokenManagerStats {
  /** `getToken` calls answered from the cache. */
  hits: number;
  /** `getToken` calls that had to wait for a token (or got a cool-down error). */
  misses: number;
  /** Requests sent to the token endpoint, by grant. */
  endpointCalls: { client_credentials: number; refresh_token: number; total: number };
  /** Renewals that started while the current token was still served. */
  backgroundRefreshes: number;
  /** Failed token requests (each attempt of the manager, after the endpoint's own retries). */
  failures: number;
  /** Scopes whose token request is queued or running. */
  inFlight: number;
  /** Scopes with a token cached in this process. */
  cached: number;
  /** Renewals scheduled ahead of expiry. */
  scheduled: number;
  /** Scopes currently in a cool-down after a failure. */
  coolingDown: number;
}
