/**
 * Samples a growing counter (say, the token calls the emulator has seen) every `everyMs`, so that a
 * scenario can report the most counted in any one-second window: the peak rate the endpoint saw.
 * Sampling makes it a lower bound of the true peak, off by at most one interval's worth.
 */
import { nowMs } from './timing.js';

export interface RateSampler {
  /** Stops sampling (after one last sample) and returns the peak: the most counted within any 1 s. */
  stop(): Promise<{ peakPerSecond: number; samples: number }>;
}

/** Starts sampling `read()` now. */
export function sampleRate(read: () => Promise<number>, everyMs = 100): RateSampler {
  const samples: { t: number; value: number }[] = [];
  let stopped = false;
  const take = async () => {
    const value = await read();
    samples.push({ t: nowMs(), value });
  };
  const loop = (async () => {
    while (!stopped) {
      const started = nowMs();
      await take().catch(() => {});
      const pause = everyMs - (nowMs() - started);
      if (pause > 0 && !stopped) await new Promise((resolve) => setTimeout(resolve, pause));
    }
  })();
  let last: Promise<void> | undefined;
  return {
    /** Idempotent: a second call returns the same figures. */
    stop() {
      return (last ??= (async () => {
        stopped = true;
        await loop;
        await take().catch(() => {});
      })()).then(() => peakOf(samples));
    },
  };
}

/** The most the counter grew between two samples at most 1 s apart. */
function peakOf(samples: readonly { t: number; value: number }[]): { peakPerSecond: number; samples: number } {
  let peak = 0;
  let j = 0;
  for (let i = 0; i < samples.length; i++) {
    if (j < i) j = i;
    while (j + 1 < samples.length && samples[j + 1]!.t - samples[i]!.t <= 1_000) j++;
    peak = Math.max(peak, samples[j]!.value - samples[i]!.value);
  }
  return { peakPerSecond: peak, samples: samples.length };
}
