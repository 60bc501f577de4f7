/**
 * Fleet: 4 worker processes × 500 scopes, cold, against one emulator (a child process).
 *
 * 1. **Shared store.** 4 workers, each with its own TokenManager on a RedisTokenStore shared
 *    through a redis-server the scenario starts itself, ask for the same 500 cold scopes at the
 *    same moment (500 concurrent getToken calls per process). Floor: 500 token calls, one per
 *    scope for the whole fleet; every process must end up with the same token for each scope.
 * 2. **Separate caches** (the baseline, same run, same emulator): 4 more workers, each with the
 *    default in-process LRU, do the same: 4 × 500 = 2,000 token calls.
 * 3. **What the store adds to a local miss**, one call at a time so that queueing does not hide it
 *    (the burst latencies of 1 and 2 are reported too, but they measure the queue and the
 *    endpoint's load as much as the store): for each of 300 new scopes, in turn,
 *    - a *fetching miss* with the shared store (worker S0: GET, lock, GET, token request, write,
 *      release) against a fetching miss with a local cache (worker L0: the token request alone),
 *      in alternating order; the store's cost is the difference of their p99s (and p50s);
 *    - a *shared miss* (worker S1, whose LRU lacks the scope that S0 just put in Redis: one GET
 *      and a decode, no token request) against a *local hit* (S1 again, now from its LRU).
 *
 * Latencies are measured inside the workers, around `getToken` (fleet-worker.ts), so the pipe to
 * the bench is not in them. The workers and their protocol are the Redis tests' fixtures
 * (__tests__/fixtures/fleet-*.ts), shared as they are.
 *
 * Without redis-server on PATH, the scenario is SKIPPED (with how to install it), not failed.
 */
import { startFleet, stopFleet, type FleetWorker } from '../../__tests__/fixtures/fleet-driver.js';
import type { FleetWorkerConfig, GetReply, GetResult, GrantCounts } from '../../__tests__/fixtures/fleet-protocol.js';
import { fixed, int, ms } from '../lib/format.js';
import { INSTALL_HINT, startRedisServer, type RedisServer } from '../lib/redis-server.js';
import { startRemoteEmulator, type RemoteEmulator } from '../lib/remote-emulator.js';
import { check, skippedResult, type Scenario } from '../lib/result.js';
import { percentile } from '../lib/stats.js';
import { Deadline, nowMs } from '../lib/timing.js';

const WORKERS = 4;
const SCOPES = 500;
/** Scopes timed one call at a time in phase 3. */
const SEQUENTIAL_SCOPES = 300;
/**
 * Delay of each token answer, in ms, as in the storm scenario and the fleet test: a holder is still
 * fetching when the other processes ask, so they really wait on its lock. A real token endpoint,
 * across a network, is slower still.
 */
const LATENCY_MS = 10;
/** Bound on one burst (500 getToken calls in each of 4 processes). */
const BURST_TIMEOUT_MS = 20_000;
/** Bound on one call of phase 3. */
const CALL_TIMEOUT_MS = 5_000;
/** Bound on phase 3 as a whole: a slow machine times fewer scopes rather than overrunning. */
const SEQUENTIAL_BUDGET_MS = 15_000;
const KEY_PREFIX = 'flux-bench:fleet:';

interface BurstOutcome {
  tokenCalls: number;
  /** The most token calls any one scope cost. */
  maxCallsPerScope: number;
  wallMs: number;
  latencies: number[];
  failures: string[];
  /** Tokens fetched by the workers, and tokens they took from Redis. */
  fetched: number;
  fromStore: number;
  /** Scopes for which the workers do not all hold the same token. */
  splitScopes: number;
  /** Scopes for which two workers hold the same token (must be 0 with separate caches). */
  sharedScopes: number;
}

const sortedOf = (values: readonly number[]) => Float64Array.from(values).sort();

function summary(values: readonly number[]) {
  const sorted = sortedOf(values);
  return { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]! };
}

const fetchedOf = (g: GrantCounts) => g.client_credentials + g.refresh_token;

/** Every worker asks for every scope at the same moment; the emulator counts the token calls. */
async function burst(workers: readonly FleetWorker[], scopes: string[], emulator: RemoteEmulator): Promise<BurstOutcome> {
  await emulator.resetStats();
  const started = nowMs();
  const replies: GetReply[] = await Promise.all(workers.map((w) => w.get(scopes, BURST_TIMEOUT_MS)));
  const wallMs = nowMs() - started;
  const stats = await emulator.stats();
  const results = replies.flatMap((r) => r.results);
  let splitScopes = 0;
  let sharedScopes = 0;
  scopes.forEach((_, i) => {
    const prints = replies.map((r) => r.results[i]?.fingerprint);
    const distinct = new Set(prints).size;
    if (distinct !== 1 || prints.includes(undefined)) splitScopes++;
    if (distinct < prints.length) sharedScopes++;
  });
  return {
    tokenCalls: stats.tokenCalls.total,
    maxCallsPerScope: Math.max(0, ...Object.values(stats.tokenCalls.byScope)),
    wallMs,
    latencies: results.map((r) => r.ms),
    failures: results.filter((r) => !r.ok).map((r) => `${r.scope}: ${r.error}`),
    fetched: replies.reduce((n, r) => n + fetchedOf(r.grants), 0),
    fromStore: replies.reduce((n, r) => n + r.grants.store, 0),
    splitScopes,
    sharedScopes,
  };
}

type Kind = 'fetch' | 'store' | 'hit';

/** One getToken in `worker`, with the kind of answer it got (from the manager's token events). */
async function timedCall(worker: FleetWorker, scope: string): Promise<{ result: GetResult; kind: Kind | 'mixed' }> {
  const reply = await worker.get([scope], CALL_TIMEOUT_MS);
  const g = reply.grants;
  const kind = fetchedOf(g) === 1 && g.store === 0 ? 'fetch' : g.store === 1 && fetchedOf(g) === 0 ? 'store' : fetchedOf(g) + g.store === 0 ? 'hit' : 'mixed';
  return { result: reply.results[0]!, kind };
}

export const fleet: Scenario = async ({ quick, log }) => {
  const scopeCount = quick ? 100 : SCOPES;
  const sequentialCount = quick ? 50 : SEQUENTIAL_SCOPES;
  const floor = scopeCount;
  const separateFloor = WORKERS * scopeCount;
  const setup = {
    workers: WORKERS,
    scopes: scopeCount,
    sequentialScopes: sequentialCount,
    emulator: `child process, RS256 tokens, answers delayed ${LATENCY_MS} ms, 1 h tokens`,
    redis: 'redis-server from PATH, own process, free loopback port, --save "" --appendonly no',
    store: 'RedisTokenStore defaults (lockTtl 15 s, pollInterval 100 ms, commandTimeout 500 ms), no encryption',
    manager: 'TokenManager defaults (queue concurrency 8)',
  };

  const started = await startRedisServer();
  if ('missing' in started) return skippedResult('fleet', started.missing, INSTALL_HINT, setup);
  const redis: RedisServer = started.server;
  log(`redis-server ${redis.version} on 127.0.0.1:${redis.port} (pid ${redis.pid}), persistence off`);

  let emulator: RemoteEmulator | undefined;
  const fleets: FleetWorker[][] = [];
  try {
    emulator = await startRemoteEmulator({ expiresIn: 3600, latency: LATENCY_MS });
    const base: Omit<FleetWorkerConfig, 'name' | 'store'> = {
      tokenUrl: emulator.tokenUrl,
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
    };
    // Both fleets start together (tsx start-up is most of the scenario's fixed cost); a fleet that
    // started is stopped in `finally` even if the other failed.
    const bootStarted = nowMs();
    const booted = await Promise.allSettled([
      startFleet(WORKERS, { ...base, name: 'shared', store: 'redis', redisUrl: redis.url, keyPrefix: KEY_PREFIX }),
      startFleet(WORKERS, { ...base, name: 'local', store: 'local' }),
    ]);
    for (const b of booted) if (b.status === 'fulfilled') fleets.push(b.value);
    for (const b of booted) if (b.status === 'rejected') throw b.reason;
    const [shared, local] = fleets as [FleetWorker[], FleetWorker[]];
    log(`${WORKERS} workers on the shared store and ${WORKERS} with separate caches started in ${ms(nowMs() - bootStarted)}`);

    // ── 1 and 2: the cold bursts ────────────────────────────────────────────────────────────────
    const scopes = Array.from({ length: scopeCount }, (_, i) => `fleet-${i}`);
    const sharedBurst = await burst(shared, scopes, emulator);
    const sharedLat = summary(sharedBurst.latencies);
    log(
      `shared store: ${int(WORKERS * scopeCount)} cold getToken calls (${WORKERS} × ${int(scopeCount)}) → ${int(sharedBurst.tokenCalls)} token calls (floor ${int(floor)}); ` +
        `${int(sharedBurst.fetched)} fetched, ${int(sharedBurst.fromStore)} taken from Redis; ${ms(sharedBurst.wallMs)} wall, p50 ${ms(sharedLat.p50)}, p99 ${ms(sharedLat.p99)}`,
    );
    const localBurst = await burst(local, scopes, emulator);
    const localLat = summary(localBurst.latencies);
    log(
      `separate caches: ${int(WORKERS * scopeCount)} cold getToken calls → ${int(localBurst.tokenCalls)} token calls (expected ${int(separateFloor)}); ` +
        `${ms(localBurst.wallMs)} wall, p50 ${ms(localLat.p50)}, p99 ${ms(localLat.p99)}`,
    );

    // ── 3: one local miss at a time ─────────────────────────────────────────────────────────────
    const [s0, s1] = shared as [FleetWorker, FleetWorker];
    const l0 = local[0]!;
    const timed: Record<Kind, number[]> & { localFetch: number[] } = { fetch: [], store: [], hit: [], localFetch: [] };
    const wrongKind: string[] = [];
    const failures: string[] = [];
    const expect = (what: string, outcome: { result: GetResult; kind: string }, kind: Kind, into: number[]) => {
      if (!outcome.result.ok) failures.push(`${outcome.result.scope}: ${outcome.result.error}`);
      if (outcome.kind !== kind) wrongKind.push(`${what} ${outcome.result.scope}: ${outcome.kind}`);
      else into.push(outcome.result.ms);
    };
    const deadline = new Deadline(SEQUENTIAL_BUDGET_MS);
    const seqStarted = nowMs();
    let done = 0;
    for (let i = 0; i < sequentialCount && !deadline.passed; i++) {
      const scope = `fleet-seq-${i}`;
      // Alternate which of the two fetching misses goes first, so that neither always follows the other.
      const sharedFirst = i % 2 === 0;
      if (!sharedFirst) expect('local fetching miss', await timedCall(l0, scope), 'fetch', timed.localFetch);
      expect('shared fetching miss', await timedCall(s0, scope), 'fetch', timed.fetch);
      if (sharedFirst) expect('local fetching miss', await timedCall(l0, scope), 'fetch', timed.localFetch);
      expect('miss served by Redis', await timedCall(s1, scope), 'store', timed.store);
      expect('local hit', await timedCall(s1, scope), 'hit', timed.hit);
      done++;
    }
    const seqMs = nowMs() - seqStarted;
    const fetchMiss = summary(timed.fetch);
    const localMiss = summary(timed.localFetch);
    const storeMiss = summary(timed.store);
    const hit = summary(timed.hit);
    const addedP99 = fetchMiss.p99 - localMiss.p99;
    const addedP50 = fetchMiss.p50 - localMiss.p50;
    log(`one call at a time, ${int(done)} new scopes in ${ms(seqMs)}${done < sequentialCount ? ` (stopped at the ${SEQUENTIAL_BUDGET_MS / 1000} s budget)` : ''}:`);
    log(`  fetching miss, shared store   p50 ${ms(fetchMiss.p50)}  p99 ${ms(fetchMiss.p99)}  max ${ms(fetchMiss.max)}`);
    log(`  fetching miss, local cache    p50 ${ms(localMiss.p50)}  p99 ${ms(localMiss.p99)}  max ${ms(localMiss.max)}`);
    log(`  → the store adds p50 ${signedMs(addedP50)}, p99 ${signedMs(addedP99)} to a miss that fetches`);
    log(`  miss served by Redis          p50 ${ms(storeMiss.p50)}  p99 ${ms(storeMiss.p99)}  max ${ms(storeMiss.max)}`);
    log(`  local hit                     p50 ${us(hit.p50)}  p99 ${us(hit.p99)}  max ${us(hit.max)}`);
    if (wrongKind.length > 0) log(`  calls not of the intended kind: ${wrongKind.slice(0, 5).join('; ')}${wrongKind.length > 5 ? ' …' : ''}`);

    const news = [...shared, ...local].flatMap((w) => w.news.map((n) => `${w.name}: ${JSON.stringify(n)}`));
    if (news.length > 0) log(`store news: ${news.slice(0, 5).join('; ')}${news.length > 5 ? ' …' : ''}`);
    const allFailures = [...sharedBurst.failures, ...localBurst.failures, ...failures];
    if (allFailures.length > 0) log(`failed getToken calls: ${allFailures.slice(0, 5).join('; ')}${allFailures.length > 5 ? ' …' : ''}`);

    const notes: string[] = [];
    if (done < sequentialCount) notes.push(`The one-at-a-time phase timed ${done} scopes of ${sequentialCount} before its ${SEQUENTIAL_BUDGET_MS / 1000} s budget ran out.`);

    return {
      title: 'fleet',
      figure:
        `${int(sharedBurst.tokenCalls)} token calls, shared store (${WORKERS} processes × ${int(scopeCount)} cold scopes); ` +
        `local miss p99: ${ms(fetchMiss.p99)} when it fetches (store adds ${signedMs(addedP99)}), ${ms(storeMiss.p99)} when Redis has the token`,
      baseline: `floor ${int(floor)}; separate caches: ${int(localBurst.tokenCalls)} token calls; miss without the store p99 ${ms(localMiss.p99)}; local hit p99 ${us(hit.p99)}`,
      target: `shared = ${int(floor)}, separate = ${int(separateFloor)}; p99s reported (no target)`,
      checks: [
        check('token calls, shared store', int(sharedBurst.tokenCalls), `= ${int(floor)}`, sharedBurst.tokenCalls === floor && sharedBurst.maxCallsPerScope === 1),
        check('token calls, separate caches', int(localBurst.tokenCalls), `= ${int(separateFloor)}`, localBurst.tokenCalls === separateFloor),
        check('scopes whose processes hold different tokens (shared store)', int(sharedBurst.splitScopes), '0', sharedBurst.splitScopes === 0),
        check('failed getToken calls', int(allFailures.length), '0', allFailures.length === 0),
        check('store news (degraded, rejected)', int(news.length), '0', news.length === 0),
        check('timed calls of another kind than intended', int(wrongKind.length), '0', wrongKind.length === 0 && done > 0),
      ],
      metrics: {
        shared: { ...sharedBurst, latencies: undefined, latency: sharedLat },
        separate: { ...localBurst, latencies: undefined, latency: localLat },
        oneAtATime: {
          scopes: done,
          wallMs: seqMs,
          fetchingMissShared: fetchMiss,
          fetchingMissLocal: localMiss,
          addedByStoreP50Ms: addedP50,
          addedByStoreP99Ms: addedP99,
          missServedByRedis: storeMiss,
          localHit: hit,
          wrongKind,
        },
        failures: allFailures.slice(0, 20),
        storeNews: news.slice(0, 20),
        redisVersion: redis.version,
      },
      setup,
      notes,
    };
  } finally {
    await Promise.allSettled(fleets.map((f) => stopFleet(f)));
    await emulator?.close();
    await redis.stop();
  }
};

function signedMs(value: number): string {
  return `${value >= 0 ? '+' : '−'}${ms(Math.abs(value))}`;
}

/** Sub-millisecond latencies, in µs. */
function us(valueMs: number): string {
  return Number.isFinite(valueMs) ? `${fixed(valueMs * 1000, valueMs < 0.01 ? 1 : 0)} µs` : String(valueMs);
}
