/**
 * Compares the throughput of two ways of sending the same requests by alternating them in many
 * short rounds (A B, B A, A B, ...). The machine is shared with other jobs whose load comes in
 * bursts, so each round of A is paired with the adjacent round of B, and the headline ratio is the
 * median of the pairs' ratios: a burst spoils one pair, not the result. A warm-up round of each
 * comes first and is not counted. The client's CPU time per request is recorded too.
 */
import type { CallApi } from './api-clients.js';
import { runLoad, type LoadResult } from './load.js';
import { median } from './stats.js';

export interface AbOptions {
  pairs: number;
  roundMs: number;
  workers: number;
  users: readonly string[];
}

export interface ArmTotals {
  requests: number;
  failed: number;
  elapsedMs: number;
  /** Requests per second over all counted rounds. */
  perSecond: number;
  roundRates: number[];
  /** Median over the rounds of this process's CPU time (user + system) per request, in µs. */
  cpuMicrosPerRequest: number;
  roundCpu: number[];
  outcomes: Record<string, number>;
  samples: string[];
}

export interface AbResult {
  a: ArmTotals;
  b: ArmTotals;
  /** Median over the pairs of (A's rate / B's rate). */
  ratio: number;
  /** a.perSecond / b.perSecond over all rounds. */
  totalRatio: number;
  pairRatios: number[];
}

function emptyArm(): ArmTotals {
  return { requests: 0, failed: 0, elapsedMs: 0, perSecond: 0, roundRates: [], cpuMicrosPerRequest: 0, roundCpu: [], outcomes: {}, samples: [] };
}

function add(arm: ArmTotals, result: LoadResult, cpuMicros: number): number {
  arm.requests += result.requests;
  arm.failed += result.failed;
  arm.elapsedMs += result.elapsedMs;
  for (const [key, n] of Object.entries(result.outcomes)) arm.outcomes[key] = (arm.outcomes[key] ?? 0) + n;
  arm.samples.push(...result.samples.slice(0, 5 - arm.samples.length));
  const perSecond = (result.requests / result.elapsedMs) * 1000;
  arm.roundRates.push(perSecond);
  arm.roundCpu.push(cpuMicros / Math.max(1, result.requests));
  return perSecond;
}

export async function alternate(a: CallApi, b: CallApi, options: AbOptions): Promise<AbResult> {
  const { users, workers, roundMs } = options;
  const round = async (call: CallApi, arm?: ArmTotals): Promise<number> => {
    let next = 0;
    const cpu = process.cpuUsage();
    const result = await runLoad(() => call(users[next++ % users.length]!), {
      workers,
      durationMs: roundMs,
      maxRequests: Math.ceil(roundMs * 100), // far above what loopback HTTP does (100,000/s)
    });
    const used = process.cpuUsage(cpu);
    return arm === undefined ? 0 : add(arm, result, used.user + used.system);
  };
  await round(a);
  await round(b);
  const armA = emptyArm();
  const armB = emptyArm();
  const pairRatios: number[] = [];
  for (let p = 0; p < options.pairs; p++) {
    let rateA: number;
    let rateB: number;
    if (p % 2 === 0) {
      rateA = await round(a, armA);
      rateB = await round(b, armB);
    } else {
      rateB = await round(b, armB);
      rateA = await round(a, armA);
    }
    pairRatios.push(rateA / rateB);
  }
  for (const arm of [armA, armB]) {
    arm.perSecond = (arm.requests / arm.elapsedMs) * 1000;
    arm.cpuMicrosPerRequest = median(arm.roundCpu);
  }
  return { a: armA, b: armB, ratio: median(pairRatios), totalRatio: armA.perSecond / armB.perSecond, pairRatios };
}
