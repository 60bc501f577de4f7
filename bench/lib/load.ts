/**
 * A closed-loop load generator: `workers` loops, each sending one request at a time, until the
 * duration is over or `maxRequests` have been sent. Each request's latency and outcome are
 * recorded; a request fails when it throws or answers anything but 200.
 */
import { LatencyRecorder } from './stats.js';
import { Deadline, nowMs, sleep } from './timing.js';

/** Sends request number `seq` of worker `worker`; resolves to the HTTP status. */
export type SendRequest = (worker: number, seq: number) => Promise<number>;

export interface LoadOptions {
  workers: number;
  durationMs: number;
  /** Hard bound on the number of requests, whatever the duration. */
  maxRequests: number;
  /** Pause after each request, per worker, for a paced (steady) load. 0 for back to back. */
  pauseMs?: number;
  /** Where to record latencies; a new recorder by default. */
  latencies?: LatencyRecorder;
}

export interface LoadResult {
  requests: number;
  ok: number;
  failed: number;
  /** Answers per status, and `error:<name>` for requests that threw. */
  outcomes: Record<string, number>;
  /** The first few failures, for the report. */
  samples: string[];
  elapsedMs: number;
  latencies: LatencyRecorder;
}

const MAX_SAMPLES = 5;

export async function runLoad(send: SendRequest, options: LoadOptions): Promise<LoadResult> {
  const { workers, durationMs, maxRequests, pauseMs = 0 } = options;
  const latencies = options.latencies ?? new LatencyRecorder();
  const outcomes: Record<string, number> = {};
  const samples: string[] = [];
  const deadline = new Deadline(durationMs);
  let issued = 0;
  let ok = 0;
  let failed = 0;

  const count = (key: string, failure: string | undefined) => {
    outcomes[key] = (outcomes[key] ?? 0) + 1;
    if (failure === undefined) ok++;
    else {
      failed++;
      if (samples.length < MAX_SAMPLES) samples.push(failure);
    }
  };

  const worker = async (w: number) => {
    let seq = 0;
    while (!deadline.passed && issued < maxRequests) {
      issued++;
      const started = nowMs();
      try {
        const status = await send(w, seq++);
        latencies.record(nowMs() - started);
        count(String(status), status === 200 ? undefined : `HTTP ${status}`);
      } catch (error) {
        latencies.record(nowMs() - started);
        const name = (error as { code?: string; name?: string }).code ?? (error as Error).name ?? 'Error';
        count(`error:${name}`, `${name}: ${(error as Error).message?.slice(0, 160)}`);
      }
      if (pauseMs > 0) await sleep(pauseMs);
    }
  };

  const started = nowMs();
  await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  return { requests: ok + failed, ok, failed, outcomes, samples, elapsedMs: nowMs() - started, latencies };
}
