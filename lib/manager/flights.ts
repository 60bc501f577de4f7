/**
 * The flights of one manager: at most one flight (renewal) per scope, shared by every caller of
 * that scope. A flight runs at once; only its attempts on the wire go through the manager's queue
 * (wire-queue.ts), where flights that callers wait for go before background flights. Kept apart
 * from the renewal a flight runs, so that the sharing rules and the work shared are read separately.
 */
import type { Counters } from './counters.js';
import type { Flight } from './manager-state.js';
import { WireQueue, type WireQueueOptions } from './wire-queue.js';
import type { Token } from '../endpoint/token.js';

const noop = () => {};

/** What {@link Flights} needs from its manager. */
export interface FlightsDeps extends WireQueueOptions {
  now: () => number;
  counters: Counters;
  /** The renewal a flight runs. */
  renew: (key: string, flight: Flight) => Promise<Token>;
}

/** One flight per scope at most, and the one queue their attempts go through. */
export class Flights {
  readonly #deps: FlightsDeps;
  readonly #wire: WireQueue;
  /** Invariant: at most one flight per key, removed as soon as its outcome is known. */
  readonly #flights = new Map<string, Flight>();
  /** Every flight not yet settled, whether or not it is still in the map (for close). */
  readonly #running = new Set<Promise<unknown>>();
  #seq = 0;

  constructor(deps: FlightsDeps) {
    this.#deps = deps;
    this.#wire = new WireQueue(deps);
  }

  /** How many scopes have a flight running. */
  get size(): number {
    return this.#flights.size;
  }

  /** The flight of `key`, if one is running. */
  get(key: string): Flight | undefined {
    return this.#flights.get(key);
  }

  /** Whether `key` has a flight running. */
  has(key: string): boolean {
    return this.#flights.has(key);
  }

  /** Starts a new flight for `key`: a background one (a refresh ahead of expiry) or one a caller waits for. */
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
    // On the next tick, once the flight is in the map: the renewal may forget it as it ends.
    flight.promise = Promise.resolve()
      .then(() => this.#deps.renew(key, flight))
      .finally(() => this.forget(key, flight));
    // Rejections reach every waiter through their own race; a flight nobody waits for must not
    // become an unhandled rejection.
    flight.promise.catch(noop);
    const settled = flight.promise.then(noop, noop);
    this.#running.add(settled);
    void settled.then(() => this.#running.delete(settled));
    this.#flights.set(key, flight);
    return flight;
  }

  /** Runs one attempt of `flight` on the wire once the queue admits it (see {@link WireQueue.admit}). */
  admit<T>(flight: Flight, send: () => Promise<T>): Promise<T> {
    return this.#wire.admit(flight, send);
  }

  /** A reservation for `flight`'s next attempt (see {@link WireQueue.reserve}). */
  reserve(flight: Flight): Promise<() => void> {
    return this.#wire.reserve(flight);
  }

  /** A caller now waits for `flight`: its attempts move ahead of the background flights' attempts. */
  join(flight: Flight): void {
    if (!flight.background) return;
    flight.background = false;
    this.#wire.raise(flight);
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
   * On close: ends the attempts waiting for the queue unsent (their flights fail with
   * TokenManagerClosedError), and forgets every flight. Under `intervalCap` / `interval` they would
   * each wait for their turn; their callers were rejected already.
   */
  drop(): void {
    this.#wire.drop();
    this.#flights.clear();
  }

  /** Resolves once every flight has settled (after {@link drop}: once the aborted ones have ended). */
  async onIdle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running);
    await this.#wire.onIdle();
  }
}
