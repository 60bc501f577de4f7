/**
 * The middle layer: one token per scope (user id), cached, refreshed ahead of expiry, with one
 * flight per scope at a time, and every attempt on the wire through one queue.
 *
 * The hot path (`getToken` with a usable token) is a synchronous store lookup, a clock read and
 * two comparisons; everything else — flights, the queue, the scheduler, cool-downs — is reached
 * only on a miss or when a token enters its refresh window. This file decides whether a token is
 * needed; its parts do the rest: caller-waits.ts (each caller's wait), flights.ts (one flight per
 * scope) and wire-queue.ts (the queue), renewal.ts (one renewal, from start to cache), counters.ts (`stats()`).
 */
import { EventEmitter, setMaxListeners } from 'node:events';
import { inspect } from 'node:util';
import { CallerWaits, type GetTokenOptions } from './caller-waits.js';
import { Cooldowns, mayProbe, RejectionGuard } from './cooldown.js';
import { newCounters, statsOf, type Counters } from './counters.js';
import { AbortError, redactUrl, TokenManagerClosedError } from '../shared/errors.js';
import { FailurePolicy } from './failure-policy.js';
import { Flights } from './flights.js';
import { GrantPolicy } from './grant-policy.js';
import { emitToEach, type TokenManagerEvents, type TokenManagerStats } from './manager-events.js';
import { resolveManagerOptions, type TokenManagerOptions } from './manager-options.js';
import { CLIENT_WIDE_KEY, scopeOf, type Flight, type ManagedRecord } from './manager-state.js';
import { RecordTable } from './record-table.js';
import { RefreshScheduler } from './refresh-scheduler.js';
import { Renewer } from './renewal.js';
import { requestReporter } from './request-report.js';
import type { Token } from '../endpoint/token.js';
import type { TokenEndpoint } from '../endpoint/token-endpoint.js';
import type { TokenStore } from '../store/token-store.js';
import { invalidRequestOptions, invalidScope } from '../shared/validate.js';

export type { GetTokenOptions } from './caller-waits.js';

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

  readonly #endpoint: TokenEndpoint;
  readonly #store: TokenStore;
  readonly #now: () => number;
  readonly #scheduler: RefreshScheduler<ManagedRecord>;
  readonly #cooldowns: Cooldowns;
  readonly #rejections: RejectionGuard;
  /** The record of every cached token, kept by the store when it can; a record goes with its token. */
  readonly #records: RecordTable;
  readonly #flights: Flights;
  readonly #waits = new CallerWaits();
  /** Aborts the token requests that are running (at most `concurrency`) on close. */
  readonly #shutdown = new AbortController();
  #closing: Promise<void> | undefined;
  readonly #stats: Counters = newCounters();

  /** Validates every option (throwing ConfigurationError) and starts an empty cache. */
  constructor(options: TokenManagerOptions) {
    super();
    const s = resolveManagerOptions(options);
    this.#endpoint = s.endpoint;
    this.tokenUrl = s.endpoint.tokenUrl;
    this.#store = s.store;
    this.#now = s.now;
    this.#scheduler = new RefreshScheduler<ManagedRecord>((record) => this.#onRefreshDue(record), {
      now: s.now,
      ...(s.timers ? { timers: s.timers } : {}),
    });
    this.#records = new RecordTable({ store: s.store, scheduler: this.#scheduler, policy: s.policy, random: s.random });
    this.#cooldowns = new Cooldowns({ baseMs: s.cooldownMs, maxMs: s.maxCooldownMs, maxEntries: 10_000 });
    this.#rejections = new RejectionGuard({ baseMs: s.cooldownMs, maxMs: s.maxCooldownMs, maxEntries: 10_000 });
    // Every running request listens to the shutdown signal, and `concurrency` may exceed 10.
    setMaxListeners(0, this.#shutdown.signal);
    const emit = this.#emit.bind(this);
    const renewer = new Renewer({
      store: s.store,
      records: this.#records,
      scheduler: this.#scheduler,
      cooldowns: this.#cooldowns,
      rejections: this.#rejections,
      grants: new GrantPolicy({
        endpoint: s.endpoint,
        renewWith: s.renewWith,
        counters: this.#stats,
        signal: this.#shutdown.signal,
        emit,
        // Runs a token request through the queue, reporting it as `requestStart` and `requestEnd` events.
        report: requestReporter(emit, () => this.#now(), (flight: Flight, send) => this.#flights.admit(flight, send)),
      }),
      failures: new FailurePolicy({ cooldowns: this.#cooldowns, scheduler: this.#scheduler, random: s.random, emit }),
      policy: s.policy,
      counters: this.#stats,
      now: s.now,
      signal: this.#shutdown.signal,
      closed: () => this.#closing !== undefined,
      forget: (key, flight) => this.#flights.forget(key, flight),
      reserve: (flight) => this.#flights.reserve(flight),
      emit,
    });
    this.#flights = new Flights({
      concurrency: s.concurrency,
      intervalCap: s.intervalCap,
      interval: s.interval,
      now: s.now,
      counters: this.#stats,
      renew: (key, flight) => renewer.renew(key, flight),
    });
    this.#store.bind?.({ clientId: this.#endpoint.clientId, tokenUrl: this.tokenUrl });
    this.#store.onStoreEvent?.((event) => this.#emit('store', event));
    this.#store.onEvict((key, token, reason, kept) => {
      const record = this.#records.dropped(token, kept);
      if (record !== undefined) this.#scheduler.cancel(record);
      this.#emit('evicted', { scope: scopeOf(key), reason });
    });
  }

  /**
   * A usable token for `scope` (a user id), or for the whole client when `scope` is omitted.
   *
   * Answers from the cache while the token has more than its margin left. Inside the refresh
   * window it still answers at once, and starts one refresh ahead of expiry. Otherwise it waits for
   * the one flight of that scope, shared with every other caller.
   *
   * Rejects with {@link InvalidArgumentError} for a scope that is not a non-empty, well-formed string, with the
   * endpoint's typed error when the flight fails (or during the cool-down after it), with
   * {@link AbortError} when `signal` fires, and with {@link TokenManagerClosedError} after close.
   */
  getToken(scope?: string, options?: GetTokenOptions): Promise<Token> {
    const refused = this.#refusal(scope) ?? (options === undefined ? undefined : invalidRequestOptions(options));
    if (refused !== undefined) return Promise.reject(refused);
    const key = scope ?? CLIENT_WIDE_KEY;
    const cached = this.#fromCache(key);
    if (cached !== undefined) return Promise.resolve(cached);
    this.#stats[this.#flights.has(key) ? 'joined' : 'misses']++;
    return this.#waitForToken(key, options?.signal);
  }

  /**
   * What `getToken(scope)` would answer at once (a hit: counted, and it starts the refresh ahead of
   * expiry), else undefined, with nothing requested: so an HTTP adapter sends a request with a cached
   * token in the same tick, without a promise. Throws what `getToken` rejects with after close or for a bad scope.
   */
  cachedToken(scope?: string): Token | undefined {
    const refused = this.#refusal(scope);
    if (refused !== undefined) throw refused;
    return this.#fromCache(scope ?? CLIENT_WIDE_KEY);
  }

  /**
   * Stops handing out `rejected` for `scope` (undefined for the client-wide token), typically after
   * the API answered 401 to it. Does nothing when the cache already holds another token, so that a
   * token renewed meanwhile by another flight is kept. The refresh token it carried is still used
   * for its replacement. Returns whether the token was invalidated.
   *
   * When `rejected` was itself obtained to replace a rejected token, the scope first waits out a
   * cool-down (see `cooldown`): meanwhile this returns false and the token stays, so that an API
   * that rejects every new token does not cost one token request per API request.
   *
   * After `close()`, throws {@link TokenManagerClosedError}, as `getToken` rejects with it.
   */
  invalidate(scope: string | undefined, rejected: Token | string): boolean {
    const refused = this.#refusal(scope);
    if (refused !== undefined) throw refused;
    const key = scope ?? CLIENT_WIDE_KEY;
    const record = this.#records.current(key);
    if (record === undefined) return false;
    const current = record.token;
    const matches = typeof rejected === 'string' ? current.accessToken === rejected : current === rejected;
    if (!matches) return false;
    if (record.rejected || !this.#rejections.mayReplace(key, current.accessToken, this.#now())) return false;
    record.rejected = true;
    this.#scheduler.cancel(record);
    return true;
  }

  /** Counters and gauges, for metrics. Holds no token and no secret. */
  stats(): TokenManagerStats {
    return statsOf(this.#stats, {
      inFlight: this.#flights.size,
      cached: this.#store.size,
      scheduled: this.#scheduler.size,
      coolingDown: this.#cooldowns.count(this.#now()),
      clockOffsetMs: this.#endpoint.clockOffsetMs,
    });
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Stops the manager: cancels scheduled refreshes, aborts token requests running, rejects waiting
   * callers with {@link TokenManagerClosedError}, drops queued requests unsent, and rejects every
   * later call. Idempotent; resolves once the aborted requests have ended and the store is closed,
   * without waiting for a rate limit (`rateLimit`).
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#scheduler.stop();
      this.#waits.endAll(new TokenManagerClosedError());
      // Queued flights are dropped, not run; their callers were ended just above. Running token
      // requests are aborted.
      this.#flights.drop();
      this.#shutdown.abort(new TokenManagerClosedError());
      await this.#flights.onIdle();
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

  /** The hot path of getToken and cachedToken: a usable cached token, counted as a hit, else undefined. */
  #fromCache(key: string): Token | undefined {
    const record = this.#records.current(key);
    const now = this.#now();
    if (record === undefined || now >= record.usableUntil || record.rejected) return undefined;
    record.used = true;
    this.#stats.hits++;
    if (now >= record.dueAt && !this.#flights.has(key) && this.#cooldowns.active(key, now) === undefined) this.#flights.start(key, true);
    return record.token;
  }

  /** Why a call for `scope` is refused: the manager is closed, or the scope is not well-formed. */
  #refusal(scope: string | undefined): Error | undefined {
    return this.#closing !== undefined ? new TokenManagerClosedError() : invalidScope(scope);
  }

  // ── misses ────────────────────────────────────────────────────────────────────────────────

  #waitForToken(key: string, signal: AbortSignal | undefined): Promise<Token> {
    // A caller who has already given up must not start a flight on their behalf.
    if (signal?.aborted) return Promise.reject(new AbortError(signal.reason));
    let flight = this.#flights.get(key);
    if (flight === undefined) {
      // Half-open: during the cool-down of a transient failure, this caller's flight is the probe.
      const cooling = this.#cooldowns.active(key, this.#now());
      if (cooling !== undefined && !mayProbe(cooling)) return Promise.reject(cooling);
      flight = this.#flights.start(key, false);
    } else {
      this.#flights.join(flight);
    }
    return this.#waits.race(flight.promise, signal);
  }

  // ── the schedule ──────────────────────────────────────────────────────────────────────────────

  /**
   * The scheduler says a token's refresh window opened. Refresh it only if it is in use. An idle
   * token is dropped from the schedule without a look at the store: the LRU store's `peek` counts
   * as a use, and an idle scope must stay first in line for eviction.
   */
  #onRefreshDue(record: ManagedRecord): void {
    if (!record.used || record.rejected || this.#flights.has(record.key)) return;
    // During a cool-down, the next use after it ends starts the refresh (its due time has passed).
    if (this.#cooldowns.active(record.key, this.#now()) !== undefined) return;
    if (this.#store.peek(record.key) !== record.token) return; // evicted or replaced meanwhile
    this.#flights.start(record.key, true);
  }

  #emit<E extends keyof TokenManagerEvents>(event: E, payload: TokenManagerEvents[E]): void {
    // Each listener on its own: a listener's bug must neither skip the others nor reach the manager.
    if (this.listenerCount(event) > 0) emitToEach(this, event, payload);
  }
}

