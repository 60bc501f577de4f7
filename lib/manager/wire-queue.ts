/**
 * The one queue between a manager and the token endpoint: it admits attempts that go on the wire,
 * and nothing else. A slot is held from the moment an attempt is sent until its answer (or its
 * failure) is in. Everything a renewal waits for besides — a retry's backoff or `Retry-After`, a
 * shared store's lock, budget or outage — happens outside, so that it never holds a slot that a
 * caller's request could use. At every admission, attempts that callers wait for go before those
 * of background refreshes.
 */
import PQueue from 'p-queue';
import { TokenManagerClosedError } from '../shared/errors.js';

/** Queue priority of an attempt that callers are waiting for. */
const FOREGROUND = 1;
/** Queue priority of an attempt of a background refresh (nobody waits for it yet). */
const BACKGROUND = 0;

const noop = () => {};

/** What the queue reads of the renewal an attempt belongs to. */
export interface Admitted {
  /** True while no caller waits for the renewal; read when each of its attempts is queued. */
  readonly background: boolean;
  /** The queue's id of its attempt waiting for a slot, if one is; kept by the queue. */
  queued?: string | undefined;
  /** Ends the reservation held for its next attempt (see {@link WireQueue.reserve}); kept by the queue. */
  reserved?: (() => void) | undefined;
}

/** A renewal waiting for a reservation (see {@link WireQueue.reserve}). */
interface ReservationWaiter {
  readonly renewal: Admitted;
  grant(): void;
  reject(error: Error): void;
}

/** The settings of a {@link WireQueue}. */
export interface WireQueueOptions {
  /** How many attempts are on the wire at once. */
  concurrency: number;
  /** At most this many attempts start per `interval` ms (`Infinity`: no rate limit). */
  intervalCap: number;
  interval: number;
}

export class WireQueue {
  readonly #queue: PQueue;
  /** How each attempt waiting for a slot is ended unsent, on {@link drop}. */
  readonly #waiting = new Set<(error: Error) => void>();
  readonly #concurrency: number;
  /** Reservations granted and not yet ended (see {@link reserve}): at most `concurrency`. */
  #reservations = 0;
  /** Renewals waiting for a reservation, callers' apart from background ones (which go after). */
  readonly #callerReservations: ReservationWaiter[] = [];
  readonly #backgroundReservations: ReservationWaiter[] = [];
  #dropped = false;
  #seq = 0;

  constructor({ concurrency, intervalCap, interval }: WireQueueOptions) {
    this.#concurrency = concurrency;
    this.#queue = new PQueue({ concurrency, ...(Number.isFinite(intervalCap) ? { intervalCap, interval } : {}) });
  }

  /**
   * Runs `send` (one attempt of `renewal`) once a slot is free, with the priority the renewal has
   * then, and holds the slot until it settles. A reservation of the renewal (see {@link reserve})
   * ends as the attempt starts. Rejects with {@link TokenManagerClosedError}, unsent, after
   * {@link drop}.
   */
  admit<T>(renewal: Admitted, send: () => Promise<T>): Promise<T> {
    const reserved = renewal.reserved;
    if (reserved === undefined) return this.#run(renewal, send);
    renewal.reserved = undefined;
    const sent = this.#run(renewal, () => {
      reserved();
      return send();
    });
    sent.catch(reserved); // dropped unsent: the reservation ends too
    return sent;
  }

  /**
   * Waits for one of the queue's reservations (as many as its `concurrency`; callers' renewals
   * first) and holds it until the renewal's next attempt starts on the wire, or until the returned
   * function is called (once; it frees it unused). A shared store takes one before a lock whose
   * holder will send a request: so a process holds no more locks than `concurrency` waiting for the
   * wire, and a lock it fails to get frees its reservation at once, so that trying the locks that
   * other processes hold never waits for the wire. Rejects with {@link TokenManagerClosedError}
   * after {@link drop}.
   */
  reserve(renewal: Admitted): Promise<() => void> {
    if (this.#dropped) return Promise.reject(new TokenManagerClosedError());
    return new Promise<() => void>((resolve, reject) => {
      const waiter: ReservationWaiter = { renewal, grant: () => resolve(this.#grant(renewal)), reject };
      if (this.#reservations < this.#concurrency) waiter.grant();
      else (renewal.background ? this.#backgroundReservations : this.#callerReservations).push(waiter);
    });
  }

  #grant(renewal: Admitted): () => void {
    this.#reservations++;
    let freed = false;
    const release = () => {
      if (freed) return;
      freed = true;
      if (renewal.reserved === release) renewal.reserved = undefined;
      this.#reservations--;
      (this.#callerReservations.shift() ?? this.#backgroundReservations.shift())?.grant();
    };
    renewal.reserved = release;
    return release;
  }

  #run<T>(renewal: Admitted, send: () => Promise<T>): Promise<T> {
    if (this.#dropped) return Promise.reject(new TokenManagerClosedError());
    const id = `a${++this.#seq}`;
    renewal.queued = id;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.add(reject);
      this.#queue
        // No `signal` here: p-queue would add an abort listener per queued task, and an
        // AbortSignal's listener list costs O(n) per add and remove, so a burst of n cold scopes
        // would cost O(n²). drop() ends the waiting attempts instead.
        .add(
          async () => {
            this.#waiting.delete(reject);
            if (renewal.queued === id) renewal.queued = undefined;
            try {
              resolve(await send());
            } catch (error) {
              reject(error);
            }
          },
          { priority: renewal.background ? BACKGROUND : FOREGROUND, id },
        )
        .catch(noop);
    });
  }

  /** A caller now waits for `renewal`: its attempt waiting for a slot moves ahead of background ones. */
  raise(renewal: Admitted): void {
    const waiting = this.#backgroundReservations.findIndex((w) => w.renewal === renewal);
    if (waiting !== -1) this.#callerReservations.push(...this.#backgroundReservations.splice(waiting, 1));
    if (renewal.queued === undefined) return;
    try {
      this.#queue.setPriority(renewal.queued, FOREGROUND);
    } catch {
      // Started meanwhile: nothing to reorder.
    }
  }

  /**
   * Ends every attempt waiting for a slot unsent (with {@link TokenManagerClosedError}), and every
   * later one: on close, and without waiting out a rate limit (`rateLimit`).
   */
  drop(): void {
    this.#dropped = true;
    this.#queue.clear();
    const error = new TokenManagerClosedError();
    for (const reject of this.#waiting) reject(error);
    this.#waiting.clear();
    for (const waiter of this.#callerReservations.splice(0).concat(this.#backgroundReservations.splice(0))) waiter.reject(error);
  }

  /** Resolves once no attempt is on the wire. */
  onIdle(): Promise<void> {
    return this.#queue.onIdle();
  }
}
