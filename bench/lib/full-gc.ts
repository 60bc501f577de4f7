/**
 * A full garbage collection on demand, in a process not started with `--expose-gc` (the bench's
 * own). Used once after filling a cache: a long-running worker's heap is compacted by periodic
 * major collections, and without one the freshly filled cache sits scattered among the garbage of
 * the fill, which makes a cache-bound loop slower and its figure vary from run to run.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let cached: (() => void) | undefined;

/** Runs a full collection; returns false if the runtime would not expose one. */
export function fullGc(): boolean {
  if (cached === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed !== undefined) cached = exposed;
    else {
      setFlagsFromString('--expose-gc');
      const fresh = runInNewContext('typeof gc === "function" ? gc : undefined') as (() => void) | undefined;
      if (fresh === undefined) return false;
      cached = fresh;
    }
  }
  cached();
  cached();
  return true;
}
