/**
 * Clocks and waits for the bench. Every loop in the bench is bounded twice, by a count and by a
 * deadline, so that a slow machine or a regression makes a scenario report a low figure instead of
 * running forever.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';

/** Milliseconds on the monotonic clock. */
export function nowMs(): number {
  return performance.now();
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return sleepFor(Math.max(0, ms));
}

/** A point in time after which a loop must stop. */
export class Deadline {
  readonly at: number;

  constructor(ms: number) {
    this.at = nowMs() + ms;
  }

  get passed(): boolean {
    return nowMs() >= this.at;
  }

  get remaining(): number {
    return Math.max(0, this.at - nowMs());
  }
}

/**
 * Rejects if `promise` has not settled within `ms`, naming `what`. The work itself is not
 * cancelled: this only keeps the bench from waiting on it.
 */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}
