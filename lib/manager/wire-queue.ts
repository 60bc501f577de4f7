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
  /** Frees the slot reserved for its next attempt (see {@link WireQueue.reserve}); kept by the queue. */
  reserved?: (() => void) | undefined;
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
  #dropped = false;
  #seq = 0;

  constructor({ concurrency, intervalCap, interval }: WireQueueOptions) {
    this.#queue = new PQueue({ concurrency, ...(Number.isFinite(intervalCap) ? { intervalCap, interval } : {}) });
  }

  /** How many attempts are on the wire now. */
  get running(): number {
    return this.#queue.pending;
  }

  /**
   * Runs `send` (one attempt of `renewal`) once a slot is free, with the priority the renewal has
   * then, and holds the slot until it settles. Rejects with {@link TokenManagerClosedError},
   * unsent, after {@link drop}.
   */
  admit<T>(renewal: Admitted, send: () => Promise<T>): Promise<T> {
    const reserved = renewal.reserved;
    if (reserved !== undefined) {
      renewal.reserved = undefined;
      return send().finally(reserved);
    }
    return this.#run(renewal, send);
  }

  /**
   * Waits for a slot with the priority `renewal` has, and holds it until the renewal's next
   * {@link admit} has run in it, or the returned function is called (which frees it unused, once).
   * Rejects with {@link TokenManagerClosedError} after {@link drop}.
   */
  async reserve(renewal: Admitted): Promise<() => void> {
    let free!: () => void;
    const held = new Promise<void>((resolve) => (free = resolve));
    let freed = false;
    const release = () => {
      if (freed) return;
      freed = true;
      if (renewal.reserved === release) renewal.reserved = undefined;
      free();
    };
    let granted!: () => void;
    const grant = new Promise<void>((resolve) => (granted = resolve));
    // The slot is held from the moment the queue grants it until `release`.
    const holding = this.#run(renewal, () => (granted(), held));
    holding.catch(noop);
    await Promise.race([grant, holding]);
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
  }

  /** Resolves once no attempt is on the wire. */
  onIdle(): Promise<void> {
    return this.#queue.onIdle();
  }
}
