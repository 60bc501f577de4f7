/**
 * The waits of the callers of `getToken`: each caller waits for its scope's flight, and stops
 * waiting early when its own AbortSignal fires or the manager closes, while the flight goes on
 * for the others. Kept apart from the flights because a wait belongs to one caller, a flight to
 * every caller of a scope.
 */
import { AbortError } from '../shared/errors.js';
import type { Token } from '../endpoint/token.js';

/** Options of one `getToken` call. */
export interface GetTokenOptions {
  /** Stops this caller's wait (with an AbortError). The shared flight goes on for the others. */
  signal?: AbortSignal;
}

const noop = () => {};

/** Every wait in progress of one manager, so that each can end on its caller's signal or on close. */
export class CallerWaits {
  /**
   * The reject functions of the callers waiting for a flight, so that close() can end every wait.
   * Each is removed when its wait ends: racing every wait against one long-lived "closed" promise
   * instead would leave a reaction on that promise per miss, kept until close (a leak).
   */
  readonly #waiters = new Set<(error: Error) => void>();
  /** Per caller signal, its one 'abort' listener and the waits that listener ends (see #onAbort). */
  readonly #abortListeners = new WeakMap<AbortSignal, { readonly callbacks: Set<() => void>; readonly listener: () => void }>();

  /** This caller's wait for `promise`: ends early on its own `signal` (with AbortError), or at {@link endAll}. */
  race(promise: Promise<Token>, signal: AbortSignal | undefined): Promise<Token> {
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

  /** Ends every wait in progress with `error` (on close). */
  endAll(error: Error): void {
    for (const reject of this.#waiters) reject(error);
    this.#waiters.clear();
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
}
