/**
 * The demo behind `npm start`: per-user workers call the emulated Flux API through got (with
 * `gotAuth`) and fetch (with `authFetch`) while 5-second tokens expire and refresh underneath them,
 * and the token endpoint goes down for a while in the middle. The result proves the point: zero
 * failed requests, and the token calls next to their floor.
 */
import got, { type Got } from 'got';
import { startEmulator, type EmulatorStats } from '../emulator/index.js';
import { DEFAULT_REFRESH_WINDOW_MS, MAX_WINDOW_FRACTION } from '../manager/expiry.js';
import { authFetch } from '../http/fetch.js';
import { gotAuth, type TokenSource } from '../http/got.js';
import type { TokenManagerStats } from '../manager/manager-events.js';
import { TokenManager } from '../manager/token-manager.js';
import { LatencyRecorder } from './latency.js';
import type { TimelineRecorder } from './report/timeline-data.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Number of distinct users. */
  users: number;
  /** Concurrent workers; even ones use got, odd ones fetch. */
  concurrency: number;
  /** Run time, in seconds. */
  duration: number;
  /** Token lifetime, in seconds. */
  tokenLifetime: number;
  /** Length of the token-endpoint outage in the middle of the run, in seconds (0 for none). */
  outage: number;
  /** Pause of each worker between two requests, in ms, so that the demo does not saturate the CPU. */
  pauseMs?: number;
}

/** What watches the demo while it runs. */
export interface DemoObservers {
  /** Called every 50 ms with the counts so far. */
  onProgress?: (progress: DemoProgress) => void;
  /**
   * Records the run for the HTML report: the manager's events, every token-endpoint answer, the
   * outage, each request and each `getToken` wait. Its clock must be the manager's, `Date.now`.
   */
  timeline?: TimelineRecorder;
  /**
   * The got instance the manager's token endpoint sends with (default: got), e.g. one with a hook
   * that watches the endpoint's answers. The demo extends it; it must not set `prefixUrl`.
   */
  tokenGot?: Got;
}

/** Progress while the demo runs. */
export interface DemoProgress {
  elapsed: number;
  remaining: number;
  ok: number;
  failed: number;
  tokenCalls: number;
  outage: boolean;
}

/** What the demo measured. */
export interface DemoResult {
  options: DemoOptions;
  requests: { ok: number; failed: number; viaGot: number; viaFetch: number };
  failures: Record<string, number>;
  latencyMs: { p50: number; p99: number; max: number };
  tokenCalls: {
    total: number;
    clientCredentials: number;
    refreshToken: number;
    /** Calls answered with an error (during the outage); got retried them. */
    failed: number;
    /** users × duration / lifetime: one call per user per token lifetime. */
    floor: number;
    /**
     * The floor for a manager that renews `window` ahead: users × ⌈duration / (lifetime − window)⌉,
     * one issue at the start plus one renewal at each multiple of (lifetime − window) before the end.
     * (It was users × (1 + duration / (lifetime − window)), which counts a renewal too many: the
     * default run printed a "floor" of 250 next to 217 actual calls.)
     */
    refreshAheadFloor: number;
    refreshWindowSeconds: number;
    /** Tokens the emulator issued, per user id (`*`: client-wide); failed calls are not in it. */
    issuedByScope: Record<string, number>;
  };
  backgroundRefreshes: number;
  unauthorized: EmulatorStats['api']['unauthorized'];
  peakConcurrentTokenCalls: number;
  manager: TokenManagerStats;
  wallSeconds: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** How long the end of the run waits for the manager's token requests in flight to land. */
const SETTLE_MS = 2_000;

/** The manager, with each `getToken` call's wait recorded on the timeline. */
function timedSource(manager: TokenManager, timeline: TimelineRecorder): TokenSource {
  return {
    tokenUrl: manager.tokenUrl,
    invalidate: (...args) => manager.invalidate(...args),
    getToken: async (...args) => {
      const t0 = performance.now();
      try {
        return await manager.getToken(...args);
      } finally {
        timeline.tokenWait(performance.now() - t0);
      }
    },
  };
}

/** The got instance of the token endpoint: `base`, with each answer recorded on the timeline. */
function watchedGot(base: Got, timeline: TimelineRecorder): Got {
  return base.extend({
    hooks: {
      // Every answer, retried ones included (these hooks run before got throws on a 5xx).
      afterResponse: [
        (response) => {
          timeline.tokenCall(response.statusCode);
          return response;
        },
      ],
      // A retried attempt without any answer (reset, timeout).
      beforeRetry: [
        (error) => {
          if (error.response === undefined) timeline.tokenCall(0);
        },
      ],
    },
  });
}

/** Runs the demo against an embedded emulator. Bounded by `duration`; stops by itself. */
export async function runDemo(options: DemoOptions, observers: DemoObservers = {}): Promise<DemoResult> {
  const { users, concurrency, duration, tokenLifetime, outage } = options;
  const { onProgress, timeline } = observers;
  const pauseMs = options.pauseMs ?? 5;
  const emulator = await startEmulator({ expiresIn: tokenLifetime });
  const tokenGot = timeline === undefined ? observers.tokenGot : watchedGot(observers.tokenGot ?? got, timeline);
  const manager = new TokenManager({
    clientId: emulator.clientId,
    clientSecret: emulator.clientSecret,
    tokenUrl: emulator.tokenUrl,
    // Short tokens have a short refresh window (25% of 5 s); a few more retries let a caller that
    // does wait ride out the outage instead of failing.
    request: { retry: 4, timeout: 2_000, ...(tokenGot === undefined ? {} : { got: tokenGot }) },
  });
  const detach = timeline?.attach(manager);
  const source = timeline === undefined ? manager : timedSource(manager, timeline);
  const api = got.extend(gotAuth(source), { prefixUrl: emulator.url, retry: { limit: 0 }, timeout: { request: 5_000 } });
  const fetchAs = authFetch(source, { scope: (request) => /\/users\/([^/]+)\//.exec(new URL(request.url).pathname)?.[1] });

  // The manager's default window, capped at 25% of the lifetime (lib/manager/expiry.ts), in seconds.
  const refreshWindow = Math.min(DEFAULT_REFRESH_WINDOW_MS / 1000, tokenLifetime * MAX_WINDOW_FRACTION);
  const latency = new LatencyRecorder();
  const requests = { ok: 0, failed: 0, viaGot: 0, viaFetch: 0 };
  const failures: Record<string, number> = {};
  timeline?.start();
  const started = performance.now();
  const deadline = started + duration * 1000;
  const outageStart = started + (duration * 1000) / 2 - (outage * 1000) / 2;
  const outageEnd = outageStart + outage * 1000;
  let inOutage = false;
  let next = 0;

  const fail = (reason: string) => {
    timeline?.request(false);
    requests.failed++;
    failures[reason] = (failures[reason] ?? 0) + 1;
  };

  const succeed = () => {
    timeline?.request(true);
    requests.ok++;
  };

  const worker = async (index: number) => {
    const viaGot = index % 2 === 0;
    while (performance.now() < deadline) {
      const user = `user-${next++ % users}`;
      const t0 = performance.now();
      try {
        if (viaGot) {
          requests.viaGot++;
          const res = await api.get(`users/${user}/receipts`, { context: { scope: user }, throwHttpErrors: false });
          if (res.statusCode === 200) succeed();
          else fail(`HTTP ${res.statusCode}`);
        } else {
          requests.viaFetch++;
          const res = await fetchAs(`${emulator.url}/users/${user}/receipts`);
          await res.arrayBuffer();
          if (res.status === 200) succeed();
          else fail(`HTTP ${res.status}`);
        }
      } catch (error) {
        fail((error as { code?: string }).code ?? (error as Error).name);
      }
      latency.record(performance.now() - t0);
      if (pauseMs > 0) await sleep(pauseMs);
    }
  };

  const ticker = setInterval(() => {
    const now = performance.now();
    if (outage > 0 && !inOutage && now >= outageStart && now < outageEnd) {
      inOutage = true;
      emulator.setFault('500');
      timeline?.outage(true);
    } else if (inOutage && now >= outageEnd) {
      inOutage = false;
      emulator.setFault('none');
      timeline?.outage(false);
    }
    onProgress?.({
      elapsed: (now - started) / 1000,
      remaining: Math.max(0, (deadline - now) / 1000),
      ok: requests.ok,
      failed: requests.failed,
      tokenCalls: emulator.stats().tokenCalls.total,
      outage: inOutage,
    });
  }, 50);

  try {
    await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
  } finally {
    clearInterval(ticker);
    emulator.setFault('none');
    timeline?.finish();
  }
  const wallSeconds = (performance.now() - started) / 1000;
  // A background renewal may be on the wire: let it land, so that the emulator issued no token the
  // manager did not receive (close() would abort it). Bounded; then close at once, before another starts.
  const settleBy = performance.now() + SETTLE_MS;
  while (manager.stats().inFlight > 0 && performance.now() < settleBy) await sleep(5);
  const managerStats = manager.stats();
  const closing = manager.close();
  detach?.();
  await closing;
  const stats = emulator.stats();
  await emulator.close();

  return {
    options: { ...options, pauseMs },
    requests,
    failures,
    latencyMs: { p50: latency.percentile(50), p99: latency.percentile(99), max: latency.max },
    tokenCalls: {
      total: stats.tokenCalls.total,
      clientCredentials: stats.tokenCalls.byGrant.client_credentials,
      refreshToken: stats.tokenCalls.byGrant.refresh_token,
      failed: stats.tokenCalls.total - (stats.tokenCalls.byStatus['200'] ?? 0),
      floor: Math.ceil((users * duration) / tokenLifetime),
      refreshAheadFloor: users * Math.ceil(duration / (tokenLifetime - refreshWindow)),
      refreshWindowSeconds: refreshWindow,
      issuedByScope: stats.tokenCalls.issuedByScope,
    },
    backgroundRefreshes: managerStats.backgroundRefreshes,
    unauthorized: stats.api.unauthorized,
    peakConcurrentTokenCalls: stats.peakConcurrentTokenCalls,
    manager: managerStats,
    wallSeconds,
  };
}
