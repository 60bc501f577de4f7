/**
 * The events a {@link TokenManager} emits, and the shape of its `stats()`. Payloads are meant for
 * logs and metrics: they name scopes (user ids), grants and times, never a token or a secret.
 *
 * A listener that throws stops neither the manager nor the other listeners of its event: every
 * listener is called, each on its own. The error then goes to the `listenerError` listeners, or,
 * when there are none, is thrown on the next tick as an uncaught exception (as Node surfaces any
 * other bug in a callback), where `process.on('uncaughtException')` sees it and which, unhandled,
 * ends the process. The manager's own state is never left half-updated by it.
 */
import type { EventEmitter } from 'node:events';
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
  /** True when no caller was waiting for it (a refresh ahead of expiry). */
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
   * What happens next: `retry` (a background flight is retried at `retryAt`), `fallback` (the
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
 * grant, and from now on refresh requests carry the client credentials. The cost is one refused
 * refresh for each refresh already sent when the first refusal came back (at most `concurrency`),
 * once per manager, that is once per process: see docs/other-servers.md.
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
  /** True when no caller was waiting for it (a refresh ahead of expiry). */
  background: boolean;
  /** When it was sent, in ms since the epoch, by the manager's clock (`clock.now`). */
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
   * turns a background flight into a foreground one.
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

/**
 * Payload of `listenerError`: a listener of another event threw. With a `listenerError` listener,
 * the error goes there instead of being thrown as an uncaught exception (see above); a
 * `listenerError` listener that throws in turn has its error thrown as an uncaught exception.
 */
export interface ListenerErrorEvent {
  /** The event whose listener threw. */
  event: Exclude<keyof TokenManagerEvents, 'listenerError'>;
  /** What the listener threw. It comes from the application's code, not from the manager. */
  error: unknown;
}

/**
 * Every event of a TokenManager, by name. A listener that throws skips no other listener and
 * leaves the manager as it was; its error goes to `listenerError` (see the top of this file).
 */
export interface TokenManagerEvents {
  /** A token was issued and cached (see `TokenEvent`). */
  token: TokenEvent;
  /** A token request failed, and what the manager does next (see `RefreshFailedEvent`). */
  refreshFailed: RefreshFailedEvent;
  /** A scope left the cache (see `EvictedEvent`). */
  evicted: EvictedEvent;
  /** Once: the refresh grant now sends the client credentials (see `RefreshAuthenticationEvent`). */
  refreshAuthentication: RefreshAuthenticationEvent;
  /**
   * News from a shared store (see `StoreEvent`): it degraded to local-only, recovered, or rejected a
   * value. Also `degraded`, from the manager, when a store's `coordinate()` threw an error that is not
   * a FluxTokenError before the endpoint was asked: that renewal went ahead without the store.
   */
  store: StoreEvent;
  /** A request to the token endpoint starts (see `TokenRequestStartEvent`). */
  requestStart: TokenRequestStartEvent;
  /** A request to the token endpoint ended, with its outcome (see `TokenRequestEndEvent`). */
  requestEnd: TokenRequestEndEvent;
  /** A listener of another event threw; see {@link ListenerErrorEvent}. */
  listenerError: ListenerErrorEvent;
}

/**
 * Emits `event` on `emitter` by calling each of its listeners on its own, so that one that throws
 * does not skip those after it (`EventEmitter.emit` stops at the first throw, and would throw into
 * the manager in the middle of a state change). What a listener throws is reported as described
 * at the top of this file. Listeners added with `once` are removed as `emit` would remove them.
 */
export function emitToEach<E extends keyof TokenManagerEvents>(emitter: EventEmitter, event: E, payload: TokenManagerEvents[E]): void {
  for (const listener of emitter.rawListeners(event) as Array<(payload: TokenManagerEvents[E]) => void>) {
    try {
      listener.call(emitter, payload);
    } catch (error) {
      if (event !== 'listenerError' && emitter.listenerCount('listenerError') > 0) {
        emitToEach(emitter, 'listenerError', { event: event as ListenerErrorEvent['event'], error });
      } else {
        process.nextTick(() => {
          throw error;
        });
      }
    }
  }
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
   * window that also start a refresh ahead of expiry.
   */
  hits: number;
  /**
   * Counter: `getToken` calls the cache could not answer while no flight for their scope was
   * queued or running. Each starts a flight (a fetch from the endpoint, or in fleet mode possibly a
   * token another process stored), or fails at once (a cool-down after a failure, a signal that had
   * already fired).
   */
  misses: number;
  /**
   * Counter: `getToken` calls the cache could not answer that joined a flight of their scope
   * already queued or running, started by another caller or by a refresh ahead of expiry. They
   * cost the endpoint nothing.
   */
  joined: number;
  /**
   * Counters: requests sent to the token endpoint, by grant, and their `total`. A request retried
   * by the endpoint client (network errors, 5xx, 429) counts once. A refused refresh token
   * followed by the client-credentials grant counts twice, once per grant.
   */
  endpointCalls: {
    /** Requests with the client-credentials grant. */
    client_credentials: number;
    /** Requests with the refresh-token grant. */
    refresh_token: number;
    /** Both grants together. */
    total: number;
  };
  /** Counter: refreshes ahead of expiry started while the current token was still served. */
  backgroundRefreshes: number;
  /**
   * Counter: failed token requests (each attempt of the manager, after the endpoint client's own
   * retries), including a refused refresh token that falls back to client credentials.
   */
  failures: number;
  /** Gauge: scopes with a flight queued or running (at most one per scope). */
  inFlight: number;
  /** Gauge: scopes with a token cached in this process. */
  cached: number;
  /** Gauge: cached tokens with a refresh ahead of expiry scheduled. */
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

/**
 * The `detail` of the `store` event for a store whose `coordinate()` threw something other than a
 * FluxTokenError (the manager then renews without it): the error's name and code, not its message,
 * which is the store's free text and may hold anything.
 */
export function storeFailure(error: unknown): string {
  const name = error instanceof Error ? error.name : typeof error;
  const code = (error as { code?: unknown } | null)?.code;
  return `coordinate() threw ${name}${typeof code === 'string' ? ` (${code})` : ''}; this renewal went ahead without the store`;
}
