/**
 * The events a {@link TokenManager} emits, and the shape of its `stats()`. Payloads are meant for
 * logs and metrics: they name scopes (user ids), grants and times, never a token or a secret.
 */
import type { FluxErrorCode, FluxTokenError } from '../shared/errors.js';
import type { StoreEvent } from '../store/token-store.js';

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

/**
 * Payload of `requestStart`: the manager sends a request to the token endpoint. Emitted once per
 * request it counts in `stats().endpointCalls`, after the queue let it through: a request that
 * waited in the queue starts here. The endpoint's own retries of that request are part of it.
 */
export interface TokenRequestStartEvent {
  /** Identifies the request in its `requestEnd` event; unique within the process. */
  id: number;
  /** The user id, or undefined for the client-wide token. */
  scope: string | undefined;
  /** The grant sent. A refused refresh token is followed by a second request, with client credentials. */
  grant: 'client_credentials' | 'refresh_token';
  /** True when no caller was waiting for it (a renewal ahead of expiry). */
  background: boolean;
  /** When it was sent, in ms since the epoch, by the manager's clock (`now`). */
  startedAt: number;
}

/** How a token request ended: `success`, or the `code` of the error it failed with. */
export type TokenRequestOutcome = 'success' | FluxErrorCode | 'unexpected';

/**
 * Payload of `requestEnd`: a token request ended, with an answer or an error. Holds no token and no
 * secret: for logs and metrics (the `flux-token-manager/otel` entry turns it into metrics and spans).
 */
export interface TokenRequestEndEvent extends TokenRequestStartEvent {
  /**
   * True when no caller waited for it by the time it ended: a caller who needs the scope meanwhile
   * turns a background renewal into a foreground request.
   */
  background: boolean;
  /**
   * `success`, or the failure's `code` (`FLUX_TOKEN_ENDPOINT`, `FLUX_TOKEN_REQUEST`, ...), or
   * `unexpected` for an error that is not a FluxTokenError (a bug in a custom `got`, say).
   */
  outcome: TokenRequestOutcome;
  /**
   * The HTTP status of the endpoint's final answer (after the endpoint client's own retries), on
   * success as on failure. Undefined when no answer came (network failure, timeout, abort).
   */
  status: number | undefined;
  /** From `startedAt` to the end, in ms, by the manager's clock. */
  durationMs: number;
  /** The typed error of a failed request; safe to log (it holds no secret). */
  error?: FluxTokenError;
}

/** Every event of a TokenManager, by name. */
export interface TokenManagerEvents {
  token: TokenEvent;
  refreshFailed: RefreshFailedEvent;
  evicted: EvictedEvent;
  refreshAuthentication: RefreshAuthenticationEvent;
  /** News from a shared store (see `StoreEvent`): it degraded to local-only, recovered, or rejected a value. */
  store: StoreEvent;
  requestStart: TokenRequestStartEvent;
  requestEnd: TokenRequestEndEvent;
}

/**
 * Counters and gauges of a TokenManager, from `stats()`. Counters start at 0 with the manager and
 * only grow; gauges are the state at the time of the call. Every `getToken` call that gets past
 * its argument checks on an open manager counts once, in exactly one of `hits`, `misses` and
 * `joined`.
 */
export interface TokenManagerStats {
  /**
   * Counter: `getToken` calls answered from the cache at once, including those inside the refresh
   * window that also start a background renewal.
   */
  hits: number;
  /**
   * Counter: `getToken` calls the cache could not answer while no request for their scope was in
   * flight. Each starts a renewal (a request to the endpoint, or in fleet mode possibly a token
   * another process stored), or fails at once (a cool-down after a failure, a signal that had
   * already fired).
   */
  misses: number;
  /**
   * Counter: `getToken` calls the cache could not answer that waited for a request of their scope
   * already in flight (queued or running), started by another caller or by a background renewal.
   * They cost the endpoint nothing.
   */
  joined: number;
  /**
   * Counters: requests sent to the token endpoint, by grant, and their `total`. A request retried
   * by the endpoint client (network errors, 5xx, 429) counts once. A refused refresh token
   * followed by the client-credentials grant counts twice, once per grant.
   */
  endpointCalls: { client_credentials: number; refresh_token: number; total: number };
  /** Counter: renewals started ahead of expiry while the current token was still served. */
  backgroundRefreshes: number;
  /**
   * Counter: failed token requests (each attempt of the manager, after the endpoint client's own
   * retries), including a refused refresh token that falls back to client credentials.
   */
  failures: number;
  /** Gauge: scopes whose token request is queued or running (at most one per scope). */
  inFlight: number;
  /** Gauge: scopes with a token cached in this process. */
  cached: number;
  /** Gauge: cached tokens with a renewal scheduled ahead of expiry. */
  scheduled: number;
  /** Gauge: scopes in a cool-down after a failure, answered with that failure until it ends. */
  coolingDown: number;
  /**
   * The token server's clock minus ours, in ms, learned from the `Date` header of its answers (to
   * about a second). Far from 0, the server's clock is off: its `exp` and `Retry-After` dates are
   * read against its own clock.
   */
  clockOffsetMs: number;
}
