// @ts-check
/**
 * The order in which jest hands test files to its workers (jest.config.ts, `testSequencer`).
 *
 * Jest runs the files that took longest last time first, so that no worker is left with a long
 * file at the end while the other idles. Without that record (a fresh clone, as in CI) it falls
 * back to file size, and the Redis suites are small files that run longest: they start fleets of
 * child processes and wait out real time (token lifetimes, rate-limit windows, a failover). Ranked
 * by size, they come last and make the run's tail. So, while any file has no recorded duration,
 * the Redis suites go first, largest first, and the rest follow in jest's own order.
 */
import Sequencer from '@jest/test-sequencer';

/** Files that wait on real time and child processes: by name, `redis.*.test.ts`. */
const WAITS_ON_REAL_TIME = /[\\/]redis\.[^\\/]*\.test\.ts$/;

export default class RealTimeFirstSequencer extends Sequencer {
  /** @param {import('@jest/test-result').Test[]} tests */
  sort(tests) {
    const sorted = super.sort(tests);
    if (sorted.every((test) => test.duration != null)) return sorted;
    const first = sorted.filter((test) => WAITS_ON_REAL_TIME.test(test.path));
    const size = (/** @type {import('@jest/test-result').Test} */ test) => test.context.hasteFS.getSize(test.path) ?? 0;
    first.sort((a, b) => size(b) - size(a));
    return [...first, ...sorted.filter((test) => !WAITS_ON_REAL_TIME.test(test.path))];
  }
}
