/**
 * The middle layer: one token per scope (user id), cached, renewed ahead of expiry, with one
 * request per scope at a time, and every request through one queue.
 *
 * The hot path (`getToken` with a usable token) is a synchronous store lookup, a clock read and
 * two comparisons; everything else — flights, the queue, the scheduler, cool-downs — is reached
 * only on a miss or when a token enters its refresh window.
 */
import { EventEmitter, setMaxListeners } from 'node:events';
import { inspect } from 'node:util';
import PQueue from 'p-queue';
import { Cooldowns, mayProbe, RejectionGuard } from './cooldown.js';
import { AbortError, FluxTokenError, redactUrl, TokenManagerClosedError } from '../shared/errors.js';
import { refreshAtOf, usableUntil } from './expiry.js';
import { FailurePolicy } from './failure-policy.js';
import { emitToEach, storeFailure, type TokenManagerEvents, type TokenManagerStats, type TokenSourceKind } from './manager-events.js';
import { resolveManagerOptions, type ManagerSettings, type TokenManagerOptions } from './manager-options.js';
import { CLIENT_WIDE_KEY, scopeOf, type Counters, type Flight, type Slot } from './manager-state.js';
import { RefreshScheduler } from './refresh-scheduler.js';
import { RenewalPolicy } from './renewal-policy.js';
import { requestReporter } from './request-report.js';
import { SlotTable } from './slot-table.js';
import type { Token } from '../endpoint/token.js';
import type { TokenEndpoint } from '../endpoint/token-endpoint.js';
import type { TokenStore } from '../store/token-store.js';
import { invalidRequestOptions, invalidScope } from '../shared/validate.js';

/** Queue priority of a request that callers are waiting for. */
const FOREGROUND = 1;
/** Queue priority of a renewal ahead of expiry. */
const BACKGROUND = 0;
/** Options of one `getToken` call. */
export interface GetTokenOptions {
  /** Stops this caller's wait (with an AbortError). The shared request goes on for the others. */
  signal?: AbortSignal;
}

const noop = () => {};

// Typed events: the class below merges with this interface.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface TokenManager {
  /** Listens to an event; see {@link TokenManagerEvents}. */
  on<E extends keyof TokenManagerEvents>(event: E, listener: (payload: TokenManagerEvents[E]) => void): this;
  /** Listens to the next occurrence of an event. */
  once<E extends keyof TokenManagerEvents>(event: E, listener: (payload: TokenManagerEvents[E]) => void): this;
  /** Stops listening. */
  off<E extends keyof TokenManagerEvents>(event: E, listener: (payload: TokenManagerEvents[E]) => void): this;
}

/**
 * Hands out OAuth2 tokens for the Flux API, one per user, with the token endpoint kept to about
 * one call per user per token lifetime.
 *
 * @example
 * const tokens = new TokenManager({ clientId, clientSecret });
 * const token = await tokens.getToken('user-42');   // restricted to user-42
 * await fetch(url, { headers: { authorization: `Bearer ${token.accessToken}` } });
 * await tokens.close();
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class TokenManager extends EventEmitter {
  /** The token endpoint's URL; its origin is where the HTTP adapters send tokens by default. */
  readonly tokenUrl: URL;

  readonly #settings: ManagerSettings;
  readonly #endpoint: TokenEndpoint;
  readonly #store: TokenStore;
  readonly #now: () => number;
  readonly #queue: PQueue;
  readonly #scheduler: RefreshScheduler<Slot>;
  readonly #cooldowns: Cooldowns;
  readonly #rejections: RejectionGuard;
  /** Bookkeeping of every cached token, kept by the store when it can; a slot goes with its token. */
  readonly #slots: SlotTable;
  /** Invariant: at most one flight per key, removed as soon as its outcome is known. */
  readonly #flights = new Map<string, Flight>();
  /** Aborts the endpoint requests that are running (at most `concurrency`) on close. */
  readonly #shutdown = new AbortController();
  /**
   * The reject functions of the callers waiting for a flight, so that close() can end every wait.
   * Each is removed when its wait ends: racing every wait against one long-lived "closed" promise
   * instead would leave a reaction on that promise per miss, kept until close (a leak).
   */
  readonly #waiters = new Set<(error: Error) => void>();
  /** Per caller signal, its one 'abort' listener and the waits that listener ends (see #onAbort). */
  readonly #abortListeners = new WeakMap<AbortSignal, { readonly callbacks: Set<() => void>; readonly listener: () => void }>();
  #closing: Promise<void> | undefined;
  #flightSeq = 0;
  readonly #renewal: RenewalPolicy;
  readonly #failures: FailurePolicy;
  readonly #stats: Counters = {
    hits: 0,
    misses: 0,
    client_credentials: 0,
    refresh_token: 0,
    backgroundRefreshes: 0,
    failures: 0,
    joined: 0,
  };
  /** Runs a token-endpoint request, reporting it as `requestStart` and `requestEnd` events. */
  readonly #reportRequest = requestReporter((event, payload) => this.#emit(event, payload), () => this.#now());

  /** Validates every option (throwing ConfigurationError) and starts an empty cache. */
  constructor(options: TokenManagerOptions) {
    super();
    this.#settings = resolveManagerOptions(options);
    const s = this.#settings;
    this.#endpoint = s.endpoint;
    this.tokenUrl = s.endpoint.tokenUrl;
    this.#store = s.store;
    this.#now = s.now;
    this.#queue = new PQueue({
      concurrency: s.concurrency,
      ...(Number.isFinite(s.intervalCap) ? { intervalCap: s.intervalCap, interval: s.interval } : {}),
    });
    this.#scheduler = new RefreshScheduler<Slot>((slot) => this.#onRefreshDue(slot), {
      now: s.now,
      ...(s.timers ? { timers: s.timers } : {}),
    });
    this.#slots = new SlotTable({ store: s.store, scheduler: this.#scheduler, policy: s.policy, random: s.random });
    this.#cooldowns = new Cooldowns({ baseMs: s.cooldownMs, maxMs: s.maxCooldownMs, maxEntries: 10_000 });
    this.#rejections = new RejectionGuard({ baseMs: s.cooldownMs, maxMs: s.maxCooldownMs, maxEntries: 10_000 });
    // Every running request listens to the shutdown signal, and `concurrency` may exceed 10.
    setMaxListeners(0, this.#shutdown.signal);
    const emit = this.#emit.bind(this);
    this.#renewal = new RenewalPolicy({
      endpoint: s.endpoint,
      renewWith: s.renewWith,
      counters: this.#stats,
      signal: this.#shutdown.signal,
      emit,
      report: this.#reportRequest,
    });
    this.#failures = new FailurePolicy({ cooldowns: this.#cooldowns, scheduler: this.#scheduler, random: s.random, emit });
    this.#store.bind?.({ clientId: this.#endpoint.clientId, tokenUrl: this.tokenUrl });
    this.#store.onStoreEvent?.((event) => this.#emit('store', event));
    this.#store.onEvict((key, token, reason, record) => {
      const slot = this.#slots.dropped(token, record);
      if (slot !== undefined) this.#scheduler.cancel(slot);
      this.#emit('evicted', { scope: scopeOf(key), reason });
    });
  }

  /**
   * A usable token for `scope` (a user id), or for the whole client when `scope` is omitted.
   *
   * Answers from the cache while the token has more than its margin left. Inside the refresh
   * window it still answers at once, and starts one background renewal. Otherwise it waits for the
   * one request of that scope, shared with every other caller.
   *
   * Rejects with {@link InvalidArgumentError} for a scope that is not a non-empty, well-formed string, with the
   * endpoint's typed error when the request fails (or during the cool-down after it), with
   * {@link AbortError} when `signal` fires, and with {@link TokenManagerClosedError} after close.
   */
  getToken(scope?: string, options?: GetTokenOptions): Promise<Token> {
    if (this.#closing !== undefined) return Promise.reject(new TokenManagerClosedError());
    const badScope = invalidScope(scope);
    if (badScope !== undefined) return Promise.reject(badScope);
    if (options !== undefined) {
      const invalid = invalidRequestOptions(options);
      if (invalid !== undefined) return Promise.reject(invalid);
    }
    const key = scope ?? CLIENT_WIDE_KEY;
    const slot = this.#slots.current(key);
    if (slot !== undefined) {
      const now = this.#now();
      if (now < slot.usableUntil && !slot.rejected) {
        slot.used = true;
        this.#stats.hits++;
        if (now >= slot.dueAt && !this.#flights.has(key) && this.#cooldowns.active(key, now) === undefined) {
          this.#startFlight(key, true);
        }
        return Promise.resolve(slot.token);
      }
    }
    this.#stats[this.#flights.has(key) ? 'joined' : 'misses']++;
    return this.#waitForToken(key, options?.signal);
  }

  /**
   * Stops handing out `rejected` for `scope` (undefined for the client-wide token), typically after
   * the API answered 401 to it. Does nothing when the cache already holds another token, so that a
   * token renewed meanwhile by another request is kept. The refresh token it carried is still used
   * for the renewal. Returns whether the token was invalidated.
   *
   * When `rejected` was itself obtained to replace a rejected token, the scope first waits out a
   * cool-down (see `cooldown`): meanwhile this returns false and the token stays, so that an API
   * that rejects every new token does not cost one token request per API request.
   *
   * After `close()`, throws {@link TokenManagerClosedError}, as `getToken` rejects with it.
   */
  invalidate(scope: string | undefined, rejected: Token | string): boolean {
    if (this.#closing !== undefined) throw new TokenManagerClosedError();
    const badScope = invalidScope(scope);
    if (badScope !== undefined) throw badScope;
    const key = scope ?? CLIENT_WIDE_KEY;
    const slot = this.#slots.current(key);
    if (slot === undefined) return false;
    const current = slot.token;
    const matches = typeof rejected === 'string' ? current.accessToken === rejected : current === rejected;
    if (!matches) return false;
    if (slot.rejected || !this.#rejections.mayRenew(key, current.accessToken, this.#now())) return false;
    slot.rejected = true;
    this.#scheduler.cancel(slot);
    return true;
  }

  /** Counters and gauges, for metrics. Holds no token and no secret. */
  stats(): TokenManagerStats {
    const s = this.#stats;
    return {
      hits: s.hits,
      misses: s.misses,
      joined: s.joined,
      endpointCalls: {
        client_credentials: s.client_credentials,
        refresh_token: s.refresh_token,
        total: s.client_credentials + s.refresh_token,
      },
      backgroundRefreshes: s.backgroundRefreshes,
      failures: s.failures,
      inFlight: this.#flights.size,
      cached: this.#store.size,
      scheduled: this.#scheduler.size,
      coolingDown: this.#cooldowns.count(this.#now()),
      clockOffsetMs: this.#endpoint.clockOffsetMs,
    };
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Stops the manager: cancels scheduled renewals, aborts requests in flight, rejects waiting
   * callers with {@link TokenManagerClosedError}, drops queued requests unsent, and rejects every
   * later call. Idempotent; resolves once the aborted requests have ended and the store is closed,
   * without waiting for a rate limit (`intervalCap` / `interval`).
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#scheduler.stop();
      const closed = new TokenManagerClosedError();
      for (const reject of this.#waiters) reject(closed);
      this.#waiters.clear();
      // Queued requests are dropped, not run: under intervalCap / interval they would each wait for
      // their turn. Their callers were rejected just above. Running requests are aborted.
      this.#queue.clear();
      this.#flights.clear(); // a dropped flight never settles, so it would never leave the map
      this.#shutdown.abort(new TokenManagerClosedError());
      await this.#queue.onIdle();
      await this.#store.close?.();
    })();
    return this.#closing;
  }

  /** `await using tokens = new TokenManager(...)` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** A redacted view for `console.log(manager)`: no credentials, no tokens. */
  [inspect.custom](): string {
    const s = this.stats();
    return `TokenManager { tokenUrl: '${redactUrl(this.tokenUrl)}', clientId: '${this.#endpoint.clientId}', cached: ${s.cached}, inFlight: ${s.inFlight}, closed: ${this.closed} }`;
  }

  /** What `JSON.stringify(manager)` gives: the same redacted view, as data. */
  toJSON(): Record<string, unknown> {
    return { tokenUrl: redactUrl(this.tokenUrl), clientId: this.#endpoint.clientId, closed: this.closed, stats: this.stats() };
  }

  // ── misses and flights ────────────────────────────────────────────────────────────────────────

  #waitForToken(key: string, signal: AbortSignal | undefined): Promise<Token> {
    // A caller who has already given up must not start a request on their behalf.
    if (signal?.aborted) return Promise.reject(new AbortError(signal.reason));
    let flight = this.#flights.get(key);
    if (flight === undefined) {
      // Half-open: during the cool-down of a transient failure, this caller's request is the probe.
      const cooling = this.#cooldowns.active(key, this.#now());
      if (cooling !== undefined && !mayProbe(cooling)) return Promise.reject(cooling);
      flight = this.#startFlight(key, false);
    } else if (flight.background) {
      // A caller now waits for it: move it ahead of other background renewals.
      flight.background = false;
      try {
        this.#queue.setPriority(flight.id, FOREGROUND);
      } catch {
        // Already running: nothing to reorder.
      }
    }
    return this.#race(flight.promise, signal);
  }

  /** This caller's wait for `promise`: ends early on its own `signal`, or when the manager closes. */
  #race(promise: Promise<Token>, signal: AbortSignal | undefined): Promise<Token> {
    return new Promise<Token>((resolve, reject) => {
      const onAbort = () => {
        this.#waiters.delete(reject);
        reject(new AbortError(signal?.reason));
      };
      this.#waiters.add(reject);
      const unlisten = signal === undefined ? noop : this.#onAbort(signal, onAbort);
      promise.then(resolve, reject).finally(() => {
        this.#waiters.delete(reject);
        unlisten();
      });
    });
  }

  /**
   * Calls `callback` when `signal` aborts; returns the function that stops listening. Every wait
   * on one signal shares a single listener on it: a worker that passes one signal to many
   * concurrent calls would otherwise add one listener per call, and past 10 Node prints a
   * MaxListenersExceededWarning, although each is removed when its wait ends.
   */
  #onAbort(signal: AbortSignal, callback: () => void): () => void {
    let shared = this.#abortListeners.get(signal);
    if (shared === undefined) {
      const callbacks = new Set<() => void>();
      const listener = () => {
        this.#abortListeners.delete(signal);
        for (const call of callbacks) call();
      };
      shared = { callbacks, listener };
      this.#abortListeners.set(signal, shared);
      signal.addEventListener('abort', listener, { once: true });
    }
    const { callbacks, listener } = shared;
    callbacks.add(callback);
    return () => {
      // The last wait on the signal takes the listener off: nothing stays attached to it.
      if (!callbacks.delete(callback) || callbacks.size > 0) return;
      if (this.#abortListeners.get(signal) === shared) this.#abortListeners.delete(signal);
      signal.removeEventListener('abort', listener);
    };
  }

  #startFlight(key: string, background: boolean): Flight {
    const flight: Flight = {
      id: `f${++this.#flightSeq}`,
      background,
      grant: 'client_credentials',
      credentialsSent: true,
      startedAt: this.#now(),
      promise: undefined as unknown as Promise<Token>,
      replaces: undefined,
    };
    if (background) this.#stats.backgroundRefreshes++;
    flight.promise = this.#queue
      .add(() => this.#renew(key, flight), {
        priority: background ? BACKGROUND : FOREGROUND,
        id: flight.id,
        // No `signal` here: p-queue would add an abort listener per queued task, and an
        // AbortSignal's listener list costs O(n) per add and remove, so a burst of n cold scopes
        // cost O(n²) (30,000 at once took seconds). #renew checks for close itself instead.
      })
      .finally(() => this.#forget(key, flight));
    // Rejections reach every waiter through their own race; a flight nobody waits for must not
    // become an unhandled rejection.
    flight.promise.catch(noop);
    this.#flights.set(key, flight);
    return flight;
  }

  /**
   * Runs inside the queue: obtains a new token for `key` and caches it. A shared store coordinates
   * the renewal with the other processes (it may hand back a token one of them stored); otherwise
   * this process asks the endpoint itself.
   */
  async #renew(key: string, flight: Flight): Promise<Token> {
    if (this.#closing !== undefined) throw new TokenManagerClosedError();
    const current = this.#store.peek(key);
    // Kept for #accept: the token may be rejected (see invalidate) while this request runs.
    flight.replaces = current === undefined ? undefined : this.#slots.existing(key);
    try {
      if (this.#store.coordinate !== undefined) {
        let fetched = false;
        try {
          const { token, source } = await this.#store.coordinate(key, {
            fetch: (base) => {
              fetched = true;
              return this.#renewal.fetch(key, base, flight);
            },
            // A copy read from a shared store is never the same object: compare the token itself,
            // so that the token the API just rejected is not taken back.
            isFresh: (candidate) =>
              candidate.accessToken !== current?.accessToken && this.#isFresh(candidate, flight.background),
            local: current,
            // A getter: a caller who joins the flight makes it a foreground one.
            get background() {
              return flight.background;
            },
            signal: this.#shutdown.signal,
          });
          return this.#accept(key, token, current, source === 'store' ? 'store' : flight.grant, flight);
        } catch (error) {
          // A store is expected to degrade by itself; if it fails before asking the endpoint, this
          // process still renews on its own, so that getToken never fails because of the store.
          if (error instanceof FluxTokenError || fetched) throw error;
          this.#emit('store', { kind: 'degraded', scope: scopeOf(key), detail: storeFailure(error) });
        }
      }
      const token = await this.#renewal.fetch(key, current, flight);
      return this.#accept(key, token, current, flight.grant, flight);
    } catch (error) {
      throw this.#onFailure(key, error, flight);
    }
  }

  #isFresh(token: Token, background: boolean): boolean {
    const now = this.#now();
    if (now >= usableUntil(token, this.#settings.policy)) return false;
    // A background renewal wants a token that is not itself about to need renewal.
    return !background || now < refreshAtOf(token, this.#settings.policy, () => 0);
  }

  /**
   * Ends `flight` as soon as its outcome is known, before the token is cached or any event is
   * emitted: a caller who arrives afterwards (say, after invalidating that very token) must start a
   * new flight rather than join this one and get its result.
   */
  #forget(key: string, flight: Flight): void {
    if (this.#flights.get(key) === flight) this.#flights.delete(key);
  }

  #accept(key: string, token: Token, previous: Token | undefined, grant: TokenSourceKind, flight: Flight): Token {
    if (this.#closing !== undefined) throw new TokenManagerClosedError();
    this.#forget(key, flight);
    const old = this.#slots.existing(key);
    if (old !== undefined) this.#scheduler.cancel(old);
    try {
      // A shared store writes in the background and reports its own failures; the token is good.
      const saved = this.#store.save(key, token, previous);
      if (saved !== undefined) Promise.resolve(saved).catch(noop);
    } catch {
      // Same for a store that throws synchronously: this process keeps the token in its slot.
    }
    if (flight.replaces?.rejected === true) {
      this.#rejections.replaced(key, token.accessToken, this.#now(), token.expiresAt - token.issuedAt);
    }
    this.#slots.add(key, token);
    // Only a grant that sent the client credentials proves them: lift a client-wide cool-down then.
    this.#cooldowns.succeed(key, grant !== 'store' && flight.credentialsSent);
    this.#emit('token', {
      scope: scopeOf(key),
      grant,
      background: flight.background,
      expiresIn: token.expiresIn,
      expiresAt: token.expiresAt,
    });
    return token;
  }

  #onFailure(key: string, thrown: unknown, flight: Flight): unknown {
    if (this.#closing !== undefined) return new TokenManagerClosedError();
    this.#forget(key, flight);
    this.#stats.failures++;
    this.#failures.fail(key, thrown, flight, this.#slots.existing(key), this.#now());
    return thrown;
  }

  // ── the schedule ──────────────────────────────────────────────────────────────────────────────

  /**
   * The scheduler says a token's refresh window opened. Renew it only if it is in use. An idle
   * token is dropped from the schedule without a look at the store: the LRU store's `peek` counts
   * as a use, and an idle scope must stay first in line for eviction.
   */
  #onRefreshDue(slot: Slot): void {
    if (!slot.used || slot.rejected || this.#flights.has(slot.key)) return;
    // During a cool-down, the next use after it ends starts the renewal (its due time has passed).
    if (this.#cooldowns.active(slot.key, this.#now()) !== undefined) return;
    if (this.#store.peek(slot.key) !== slot.token) return; // evicted or replaced meanwhile
    this.#startFlight(slot.key, true);
  }

  #emit<E extends keyof TokenManagerEvents>(event: E, payload: TokenManagerEvents[E]): void {
    // Each listener on its own: a listener's bug must neither skip the others nor reach the manager.
    if (this.listenerCount(event) > 0) emitToEach(this, event, payload);
  }
}

