/**
 * Latency samples and their percentiles, for the demo's summary and the benchmark.
 */

/** Collects durations in ms and reports percentiles. Bounded: beyond `max` samples, it reservoir-samples. */
export class LatencyRecorder {
  readonly #samples: number[] = [];
  readonly #max: number;
  #count = 0;
  #maxSeen = 0;

  constructor(max = 200_000) {
    this.#max = max;
  }

  /** Records one duration, in ms. */
  record(ms: number): void {
    this.#count++;
    if (ms > this.#maxSeen) this.#maxSeen = ms;
    if (this.#samples.length < this.#max) this.#samples.push(ms);
    else {
      const i = Math.floor(Math.random() * this.#count);
      if (i < this.#max) this.#samples[i] = ms;
    }
  }

  /** How many durations were recorded. */
  get count(): number {
    return this.#count;
  }

  /** The p-th percentile (0–100), nearest-rank; 0 with no samples. */
  percentile(p: number): number {
    if (this.#samples.length === 0) return 0;
    const sorted = [...this.#samples].sort((a, b) => a - b);
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[rank]!;
  }

  /** The largest duration recorded. */
  get max(): number {
    return this.#maxSeen;
  }
}
