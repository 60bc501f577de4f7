/** Small statistics for the bench: percentiles, medians, and a bounded latency recorder. */

/** The `p`-th percentile (0 to 100) of `sorted`, by nearest rank. NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** The median of `values` (not modified). NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Latency summary, in ms. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * Records request latencies into a preallocated array, so that recording costs no allocation and
 * memory stays bounded: samples beyond `capacity` are counted but not kept.
 */
export class LatencyRecorder {
  readonly #samples: Float64Array;
  #count = 0;
  #total = 0;

  constructor(capacity = 2_000_000) {
    this.#samples = new Float64Array(capacity);
  }

  record(ms: number): void {
    if (this.#count < this.#samples.length) this.#samples[this.#count] = ms;
    this.#count++;
    this.#total += ms;
  }

  get count(): number {
    return this.#count;
  }

  summary(): LatencySummary {
    const kept = this.#samples.slice(0, Math.min(this.#count, this.#samples.length)).sort();
    return {
      count: this.#count,
      mean: this.#count === 0 ? Number.NaN : this.#total / this.#count,
      p50: percentile(kept, 50),
      p90: percentile(kept, 90),
      p99: percentile(kept, 99),
      max: kept.length === 0 ? Number.NaN : kept[kept.length - 1]!,
    };
  }
}
