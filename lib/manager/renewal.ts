/**
 * One renewal, from start to cache: what a flight runs. It coordinates with a shared store (which
 * may hand back a token another process stored), else has the grant policy fetch a token from the
 * endpoint, then caches the token and schedules its refresh, or hands the failure to the failure
 * policy. Only the attempts of its token requests go through the queue. Kept apart from the
 * flights, which decide when a renewal runs, and from the manager, which decides whether one is
 * needed.
 */
import type { Cooldowns, RejectionGuard } from './cooldown.js';
import type { Counters } from './counters.js';
import { refreshAtOf, usableUntil, type ExpiryPolicy } from './expiry.js';
import type { FailurePolicy } from './failure-policy.js';
import type { GrantPolicy } from './grant-policy.js';
import { storeFailure, type TokenManagerEvents, type TokenSourceKind } from './manager-events.js';
import { scopeOf, type Flight, type ManagedRecord } from './manager-state.js';
import type { RecordTable } from './record-table.js';
import type { RefreshScheduler } from './refresh-scheduler.js';
import { FluxTokenError, TokenManagerClosedError } from '../shared/errors.js';
import type { Token } from '../endpoint/token.js';
import type { TokenStore } from '../store/token-store.js';

const noop = () => {};

/** What a {@link Renewer} needs from its manager. */
export interface RenewerDeps {
  store: TokenStore;
  records: RecordTable;
  scheduler: RefreshScheduler<ManagedRecord>;
  cooldowns: Cooldowns;
  rejections: RejectionGuard;
  grants: GrantPolicy;
  failures: FailurePolicy;
  policy: ExpiryPolicy;
  counters: Counters;
  now: () => number;
  /** Aborted on close; a shared store stops waiting on it. */
  signal: AbortSignal;
  /** Whether the manager is closing: a renewal then caches nothing. */
  closed: () => boolean;
  /** Ends a flight as soon as its outcome is known (see `Flights.forget`). */
  forget: (key: string, flight: Flight) => void;
  /** A reservation for the flight's next token request (see `Renewal.reserve`). */
  reserve: (flight: Flight) => Promise<() => void>;
  emit: <E extends keyof TokenManagerEvents>(event: E, payload: TokenManagerEvents[E]) => void;
}

/** Runs the renewals of one manager's flights. */
export class Renewer {
  readonly #deps: RenewerDeps;

  constructor(deps: RenewerDeps) {
    this.#deps = deps;
  }

  /**
   * Obtains a new token for `key` and caches it; only the attempts of its token requests wait for
   * the queue, so that a wait of a shared store holds no slot. A shared store coordinates
   * the renewal with the other processes (it may hand back a token one of them stored); otherwise
   * this process fetches it from the endpoint itself.
   */
  async renew(key: string, flight: Flight): Promise<Token> {
    const { store, records, grants, signal, closed, reserve, emit } = this.#deps;
    if (closed()) throw new TokenManagerClosedError();
    const current = store.peek(key);
    // Kept for #cache: the token may be rejected (see invalidate) while this renewal runs.
    flight.superseded = current === undefined ? undefined : records.existing(key);
    try {
      if (store.coordinate !== undefined) {
        let fetched = false;
        try {
          const { token, source } = await store.coordinate(key, {
            fetch: (base) => {
              fetched = true;
              return grants.fetch(key, base, flight);
            },
            // A copy read from a shared store is never the same object: compare the token itself,
            // so that the token the API just rejected is not taken back.
            isFresh: (candidate) => candidate.accessToken !== current?.accessToken && this.#isFresh(candidate, flight.background),
            local: current,
            // A getter: a caller who joins the flight makes it a foreground one.
            get background() {
              return flight.background;
            },
            signal,
            reserve: () => reserve(flight),
          });
          flight.reserved?.(); // reserved for a request that was not needed
          return this.#cache(key, token, current, source === 'store' ? 'store' : flight.grant, flight);
        } catch (error) {
          flight.reserved?.(); // reserved for a request that will not be sent
          // A store is expected to degrade by itself; if it fails before the endpoint was asked,
          // this process still renews on its own, so that getToken never fails because of the store.
          if (error instanceof FluxTokenError || fetched) throw error;
          emit('store', { kind: 'degraded', scope: scopeOf(key), detail: storeFailure(error) });
        }
      }
      const token = await grants.fetch(key, current, flight);
      return this.#cache(key, token, current, flight.grant, flight);
    } catch (error) {
      flight.reserved?.();
      throw this.#onFailure(key, error, flight);
    }
  }

  #isFresh(token: Token, background: boolean): boolean {
    const { policy, now } = this.#deps;
    const at = now();
    if (at >= usableUntil(token, policy)) return false;
    // A background flight wants a token that is not itself about to need a refresh.
    return !background || at < refreshAtOf(token, policy, () => 0);
  }

  /** Caches the renewed `token` of `key` in the store and a new record, and schedules its refresh. */
  #cache(key: string, token: Token, previous: Token | undefined, grant: TokenSourceKind, flight: Flight): Token {
    const { store, records, scheduler, cooldowns, rejections, now, closed, forget, emit } = this.#deps;
    if (closed()) throw new TokenManagerClosedError();
    forget(key, flight);
    const old = records.existing(key);
    if (old !== undefined) scheduler.cancel(old);
    try {
      // A shared store writes in the background and reports its own failures; the token is good.
      const saved = store.save(key, token, previous);
      if (saved !== undefined) Promise.resolve(saved).catch(noop);
    } catch {
      // Same for a store that throws synchronously: this process keeps the token in its record.
    }
    if (flight.superseded?.rejected === true) {
      rejections.replaced(key, token.accessToken, now(), token.expiresAt - token.issuedAt);
    }
    records.add(key, token);
    // Only a grant that sent the client credentials proves them: lift a client-wide cool-down then.
    cooldowns.succeed(key, grant !== 'store' && flight.credentialsSent);
    emit('token', {
      scope: scopeOf(key),
      grant,
      background: flight.background,
      expiresIn: token.expiresIn,
      expiresAt: token.expiresAt,
    });
    return token;
  }

  #onFailure(key: string, thrown: unknown, flight: Flight): unknown {
    const { records, failures, counters, now, closed, forget } = this.#deps;
    if (closed()) return new TokenManagerClosedError();
    forget(key, flight);
    counters.failures++;
    failures.fail(key, thrown, flight, records.existing(key), now());
    return thrown;
  }
}
