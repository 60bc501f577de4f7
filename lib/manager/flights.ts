/**
 * The flights of one manager and the queue they run in: at most one flight per scope, shared by
 * every caller of that scope, and every flight through one p-queue (concurrency, rate limit), where
 * flights that callers wait for go before background flights. Kept apart from the renewal a flight
 * runs, so that the queueing rules and the work queued are read separately.
 */
import PQueue from 'p-queue';
import type { Counters } from './counters.js';
import type { Flight } from './manager-state.js';
import type { Token } from '../endpoint/token.js';

/** Queue priority of a flight that callers are waiting for. */
const FOREGROUND = 1;
/** Queue priority of a background flight (a refresh ahead of expiry nobody waits for yet). */
const BACKGROUND = 0;

const noop = () => {};

/** What {@link Flights} needs from its manager. */
export interface FlightsDeps {
  /** How many flights run at once. */
  concurrency: number;
  /** At most this many flights start per `interval` ms (`Infinity`: no rate limit). */
  intervalCap: number;
  interval: number;
  now: () => number;
  counters: Counters;
  /** The renewal a flight runs once the queue lets it start. */
  renew: (key: string, flight: Flight) => Promise<Token>;
}

/** One flight per scope at most, and the one queue they all go through. */
export class Flights {
  readonly #deps: FlightsDeps;
  readonly #queue: PQueue;
  /** Invariant: at most one flight per key, removed as soon as its outcome is known. */
  readonly #flights = new Map<string, Flight>();
  #seq = 0;

  constructor(deps: FlightsDeps) {
    this.#deps = deps;
    this.#queue = new PQueue({
      concurrency: deps.concurrency,
      ...(Number.isFinite(deps.intervalCap) ? { intervalCap: deps.intervalCap, interval: deps.interval } : {}),
    });
  }

  /** How many scopes have a flight queued or running. */
  get size(): number {
    return this.#flights.size;
  }

  /** The flight of `key`, if one is queued or running. */
  get(key: string): Flight | undefined {
    return this.#flights.get(key);
  }

  /** Whether `key` has a flight queued or running. */
  has(key: string): boolean {
    return this.#flights.has(key);
  }

  /** Queues a new flight for `key`: a background one (a refresh ahead of expiry) or one a caller waits for. */
  start(key: string, background: boolean): Flight {
    const flight: Flight = {
      id: `f${++this.#seq}`,
      background,
      grant: 'client_credentials',
      credentialsSent: true,
      startedAt: this.#deps.now(),
      promise: undefined as unknown as Promise<Token>,
      superseded: undefined,
    };
    if (background) this.#deps.counters.backgroundRefreshes++;
    flight.promise = this.#queue
      .add(() => this.#deps.renew(key, flight), {
        priority: background ? BACKGROUND : FOREGROUND,
        id: flight.id,
        // No `signal` here: p-queue would add an abort listener per queued task, and an
        // AbortSignal's listener list costs O(n) per add and remove, so a burst of n cold scopes
        // cost O(n²) (30,000 at once took seconds). The renewal checks for close itself instead.
      })
      .finally(() => this.forget(key, flight));
    // Rejections reach every waiter through their own race; a flight nobody waits for must not
    // become an unhandled rejection.
    flight.promise.catch(noop);
    this.#flights.set(key, flight);
    return flight;
  }

  /** A caller now waits for `flight`: a background flight moves ahead of the other background flights. */
  join(flight: Flight): void {
    if (!flight.background) return;
    flight.background = false;
    try {
      this.#queue.setPriority(flight.id, FOREGROUND);
    } catch {
      // Already running: nothing to reorder.
    }
  }

  /**
   * Ends `flight` as soon as its outcome is known, before the token is cached or any event is
   * emitted: a caller who arrives afterwards (say, after invalidating that very token) must start a
   * new flight rather than join this one and get its result.
   */
  forget(key: string, flight: Flight): void {
    if (this.#flights.get(key) === flight) this.#flights.delete(key);
  }

  /**
   * Drops the queued flights unsent (on close), and forgets every flight. Under `intervalCap` /
   * `interval` queued flights would each wait for their turn; their callers were rejected already.
   */
  drop(): void {
    this.#queue.clear();
    this.#flights.clear(); // a dropped flight never settles, so it would never leave the map
  }

  /** Resolves once no flight runs (after {@link drop}: once the aborted ones have ended). */
  onIdle(): Promise<void> {
    return this.#queue.onIdle();
  }
}
