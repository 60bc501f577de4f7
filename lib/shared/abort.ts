/**
 * One listener per AbortSignal, however many waits listen to it. A manager's renewals all wait on
 * its one shutdown signal, and thousands may wait at once (a cold start on a shared store, retries
 * after an outage); an EventTarget's `addEventListener` and `removeEventListener` each scan its
 * listener list, so a listener per wait would cost O(n²) for n waits.
 */

/** The callbacks of each signal, run once when it aborts. */
const callbacks = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Runs `callback` once when `signal` aborts (at once if it already has), unless the returned
 * function is called first, which forgets it. O(1) whatever the number of callbacks.
 */
export function whenAborted(signal: AbortSignal | undefined, callback: () => void): () => void {
  if (signal === undefined) return noop;
  if (signal.aborted) {
    callback();
    return noop;
  }
  let set = callbacks.get(signal);
  if (set === undefined) {
    const fresh = new Set<() => void>();
    callbacks.set(signal, fresh);
    signal.addEventListener(
      'abort',
      () => {
        callbacks.delete(signal);
        for (const run of fresh) run();
      },
      { once: true },
    );
    set = fresh;
  }
  const own = set;
  const entry = () => callback();
  own.add(entry);
  return () => void own.delete(entry);
}

function noop(): void {}
