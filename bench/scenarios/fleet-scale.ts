/**
 * Fleet at scale: 8 worker processes × 5,000 users, 30 s tokens, 60 s of steady load on one Redis
 * (a redis-server the scenario starts itself), against the emulator (a child process).
 *
 * 1. **Steady load** (run third). Every worker asks for every user once a second, from cold, for 60 s. The
 *    floor is what one process alone needs: each user's first token and one renewal per ~23 s
 *    (the manager renews a 30 s token in its last 25%, plus up to 2.5% jitter): 3 per user in 60 s
 *    when the cold start ends within 13.5 s, fewer (a lower bound) after a slower one.
 *    The emulator's counter is sampled every 100 ms for the peak token requests in any second;
 *    `INFO commandstats` before and after gives the Redis commands the run cost.
 * 2. **Local hits** (run first, while no renewal is due): every worker asks for 200 users, then
 *    for the same users again: all local hits, and the Redis commands they cost (none expected).
 * 3. **A miss that Redis answers** (also before the load), one call at a time: worker 0 fetches a
 *    new user, then worker 1 (whose LRU lacks it) asks for it: one GET and a decode.
 * 4. **With `rateLimit`.** 8 fresh workers with `rateLimit: { limit: users / 10, interval: 1000 }`
 *    on the store start cold on 5,000 other users at once: the peak token requests per second, and
 *    how long the cold start took.
 *
 * Without redis-server on PATH, the scenario is SKIPPED (with how to install it), not failed.
 */
import { Redis } from 'ioredis';
import { startFleet, stopFleet, type FleetWorker } from '../../__tests__/fixtures/fleet-driver.js';
import type { FleetWorkerConfig, GetReply, RunReply } from '../../__tests__/fixtures/fleet-protocol.js';
import { commandCounts, countsSince, totalOf, type CommandCounts } from '../lib/command-stats.js';
import { fixed, int, ms } from '../lib/format.js';
import { sampleRate } from '../lib/rate-sampler.js';
import { INSTALL_HINT, startRedisServer } from '../lib/redis-server.js';
import { startRemoteEmulator, type RemoteEmulator } from '../lib/remote-emulator.js';
import { check, skippedResult, type Scenario } from '../lib/result.js';
import { percentile } from '../lib/stats.js';
import { Deadline, nowMs } from '../lib/timing.js';

const WORKERS = 8;
const TOKEN_SECONDS = 30;
/** Each worker asks for each of its users once per tick. */
const TICK_MS = 1_000;
/** The earliest a token is renewed, as a fraction of its life (25% window, 10% jitter of it). */
const RENEWAL_PERIOD_FRACTION = 0.775;
/** Delay of each token answer, as in the fleet and storm scenarios. */
const LATENCY_MS = 10;
/** Misses answered by Redis timed one at a time, and the budget for them. */
const STORE_MISSES = 200;
const STORE_MISS_BUDGET_MS = 10_000;
/** Users each worker asks for twice in phase 2: the second time, all local hits. */
const HOT_USERS = 200;
/** Bound on a cold `get` of many users in every worker at once (a busy machine is slow to sign). */
const COLD_GET_TIMEOUT_MS = 120_000;
const KEY_PREFIX = 'flux-bench:fleet-scale:';

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

function describeCounts(counts: CommandCounts): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? 'none' : entries.map(([name, n]) => `${name} ${int(n)}`).join(', ');
}

/** Starts a fleet, counting the token calls of a cold `get` of `users` on every worker at once. */
async function coldStart(workers: readonly FleetWorker[], users: string[], emulator: RemoteEmulator, timeoutMs: number) {
  await emulator.resetStats();
  const sampler = sampleRate(async () => (await emulator.stats()).tokenCalls.total);
  const started = nowMs();
  let replies: GetReply[];
  try {
    replies = await Promise.all(workers.map((w) => w.get(users, timeoutMs)));
  } finally {
    await sampler.stop(); // before the emulator closes, whatever happens
  }
  const wallMs = nowMs() - started;
  const { peakPerSecond } = await sampler.stop();
  const results = replies.flatMap((r) => r.results);
  return {
    wallMs,
    peakPerSecond,
    tokenCalls: (await emulator.stats()).tokenCalls.total,
    failures: results.filter((r) => !r.ok).length,
    wrongUser: results.filter((r) => r.ok && r.owner !== r.scope).length,
  };
}

export const fleetScale: Scenario = async ({ quick, log }) => {
  const users = quick ? 500 : 5_000;
  const durationMs = quick ? 15_000 : 60_000;
  const periodMs = RENEWAL_PERIOD_FRACTION * TOKEN_SECONDS * 1_000;
  const rateLimit = { limit: users / 10, interval: 1_000 };
  const setup = {
    workers: WORKERS,
    users,
    durationMs,
    tickMs: TICK_MS,
    tokenSeconds: TOKEN_SECONDS,
    emulator: `child process, RS256 tokens, answers delayed ${LATENCY_MS} ms, ${TOKEN_SECONDS} s tokens`,
    redis: 'redis-server from PATH, own process, loopback, --save "" --appendonly no',
    store: 'RedisTokenStore defaults, no encryption',
    manager: 'TokenManager defaults (queue concurrency 8)',
    rateLimit,
  };

  const started = await startRedisServer();
  if ('missing' in started) return skippedResult('fleet-scale', started.missing, INSTALL_HINT, setup);
  const redis = started.server;
  log(`redis-server ${redis.version} on 127.0.0.1:${redis.port}, persistence off`);
  const admin = new Redis(redis.url);
  admin.on('error', () => {});

  let emulator: RemoteEmulator | undefined;
  let fleet: FleetWorker[] = [];
  try {
    emulator = await startRemoteEmulator({ expiresIn: TOKEN_SECONDS, latency: LATENCY_MS });
    const base: Omit<FleetWorkerConfig, 'name'> = {
      tokenUrl: emulator.tokenUrl,
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
      store: 'redis',
      redis: { url: redis.url },
    };
    const bootStarted = nowMs();
    fleet = await startFleet(WORKERS, { ...base, name: 'scale', keyPrefix: KEY_PREFIX });
    log(`${WORKERS} workers started in ${ms(nowMs() - bootStarted)}`);
    const userIds = Array.from({ length: users }, (_, i) => `user-${i}`);

    // ── 2: local hits only (first, while no renewal is due anywhere) ────────────────────────────
    const hotUsers = userIds.slice(0, HOT_USERS).map((u) => `hot-${u}`);
    await Promise.all(fleet.map((w) => w.get(hotUsers, COLD_GET_TIMEOUT_MS)));
    const hitsBefore = await commandCounts(admin);
    const hitReplies = await Promise.all(fleet.map((w) => w.get(hotUsers)));
    const hitCommands = countsSince(hitsBefore, await commandCounts(admin));
    const hitCalls = sum(hitReplies.map((r) => r.results.length));
    const notHits = sum(hitReplies.map((r) => r.grants.store + r.grants.client_credentials + r.grants.refresh_token));
    log(`local hits: ${int(hitCalls)} getToken calls (${int(notHits)} of them renewals) cost ${int(totalOf(hitCommands))} Redis commands (${describeCounts(hitCommands)})`);

    // ── 3: a miss that Redis answers (before the load, so that no renewal runs meanwhile) ────────
    const [w0, w1] = fleet as [FleetWorker, FleetWorker];
    const storeMiss: number[] = [];
    const wrongKind: string[] = [];
    const deadline = new Deadline(STORE_MISS_BUDGET_MS);
    for (let i = 0; i < (quick ? 100 : STORE_MISSES) && !deadline.passed; i++) {
      const user = `late-${i}`;
      await w0.get([user]);
      const reply = await w1.get([user]);
      if (reply.grants.store === 1 && reply.results[0]?.ok) storeMiss.push(reply.results[0].ms);
      else wrongKind.push(`${user}: ${JSON.stringify(reply.grants)}`);
    }
    const sorted = Float64Array.from(storeMiss).sort();
    const missP50 = percentile(sorted, 50);
    const missP99 = percentile(sorted, 99);
    log(`miss answered by Redis (one at a time, ${storeMiss.length} users): p50 ${ms(missP50)}, p99 ${ms(missP99)}`);


    // ── 1: steady load from cold ──────────────────────────────────────────────────────────────
    await emulator.resetStats();
    const before = await commandCounts(admin);
    const sampler = sampleRate(async () => (await emulator!.stats()).tokenCalls.total);
    let runs: RunReply[];
    try {
      runs = await Promise.all(fleet.map((w) => w.run(userIds, durationMs, TICK_MS, durationMs + COLD_GET_TIMEOUT_MS)));
    } finally {
      await sampler.stop(); // before the emulator closes, whatever happens
    }
    const { peakPerSecond } = await sampler.stop();
    const runCommands = countsSince(before, await commandCounts(admin));
    const stats = await emulator.stats();
    const calls = sum(runs.map((r) => r.calls));
    const failures = sum(runs.map((r) => r.failures));
    const wrongUser = sum(runs.map((r) => r.wrongUser));
    const fromStore = sum(runs.map((r) => r.grants.store));
    const fetched = sum(runs.map((r) => r.grants.client_credentials + r.grants.refresh_token));
    const commands = totalOf(runCommands);
    // The users of this phase only: phase 2's users may come up for renewal meanwhile.
    const steadyCalls = Object.entries(stats.tokenCalls.byScope).filter(([scope]) => scope.startsWith('user-'));
    const tokenCalls = sum(steadyCalls.map(([, n]) => n));
    const maxPerUser = Math.max(0, ...steadyCalls.map(([, n]) => n));
    // The slowest call is a cold one of the first round: about how long the cold start took.
    const coldMs = Math.max(...runs.map((r) => r.max));
    // Each user needs at least 1 + ⌊(60 s − served) / 23.25 s⌋ tokens in the run, where `served` is
    // when the first process got it its first token (23.25 s: the latest renewal of a 30 s token).
    const servedMs = userIds.map((_, i) => Math.min(...runs.map((r) => (r.firstRoundMs[i]! < 0 ? Infinity : r.firstRoundMs[i]!))));
    const floor = sum(servedMs.map((served) => 1 + Math.max(0, Math.floor((durationMs - Math.min(served, durationMs)) / periodMs))));
    const tokensPerUser = `${fixed(floor / users, 2)} on average`;
    log(
      `steady load: ${int(calls)} getToken calls in ${durationMs / 1000} s (${WORKERS} × ${int(users)} users, each asked every ${TICK_MS / 1000} s) → ` +
        `${int(tokenCalls)} token calls for them (floor ${int(floor)} = ${int(users)} × ${tokensPerUser}; ${int(stats.tokenCalls.total)} in all); at most ${maxPerUser} for one user; ` +
        `${int(fetched)} fetched, ${int(fromStore)} taken from Redis; peak ${int(peakPerSecond)} token requests in one second`,
    );
    log(`  cold start: the slowest call took ${ms(coldMs)}, the median user was first served after ${ms(median(servedMs))}; worst p99 of a worker ${ms(Math.max(...runs.map((r) => r.p99)))}; the floor counts each user from when it was first served`);
    log(`  Redis commands: ${int(commands)} (${describeCounts(runCommands)}) → ${fixed(commands / calls, 4)} per getToken, ${fixed(commands / (fetched + fromStore), 2)} per renewal`);

    // ── 4: the cold start under rateLimit ───────────────────────────────────────────────────────
    const scaleWorkers = fleet;
    await stopFleet(fleet);
    fleet = [];
    fleet = await startFleet(WORKERS, { ...base, name: 'limited', keyPrefix: `${KEY_PREFIX}limited:`, rateLimit });
    const limited = await coldStart(fleet, userIds.map((u) => `cold-${u}`), emulator, COLD_GET_TIMEOUT_MS);
    log(
      `with rateLimit ${int(rateLimit.limit)} per ${rateLimit.interval} ms: ${WORKERS} × ${int(users)} cold users → ${int(limited.tokenCalls)} token calls, ` +
        `peak ${int(limited.peakPerSecond)} in one second, all served in ${ms(limited.wallMs)}`,
    );

    // A store that found Redis too slow (a command past `commandTimeout`) renewed alone for a while,
    // and commands it gave up on may still reach Redis later: its news explains extra figures.
    const news = [...scaleWorkers, ...fleet].flatMap((w) => w.news.map((n) => `${w.name}: ${JSON.stringify(n)}`));
    if (news.length > 0) log(`store news (${news.length}): ${news.slice(0, 4).join('; ')}${news.length > 4 ? ' …' : ''}`);
    const limitedFigure = `${int(limited.peakPerSecond)}/s with rateLimit ${int(rateLimit.limit)}/s`;
    const checks = [
      check('token calls against the floor', `${int(tokenCalls)} (${fixed(tokenCalls / floor, 2)} × floor)`, `≤ 1.2 × ${int(floor)}`, tokenCalls <= 1.2 * floor),
      check('failed getToken calls', int(failures + limited.failures), '0', failures + limited.failures === 0),
      check('tokens handed to another user', int(wrongUser + limited.wrongUser), '0', wrongUser + limited.wrongUser === 0),
      check('Redis commands of local hits', int(totalOf(hitCommands)), `0 (${int(notHits)} renewals ran meanwhile)`, notHits > 0 || totalOf(hitCommands) === 0),
      check('misses timed that Redis did not answer', int(wrongKind.length), '0', wrongKind.length === 0 && storeMiss.length > 0),
      check('store news (degraded, rejected)', int(news.length), '0', news.length === 0),
      check('peak token requests per second with rateLimit', int(limited.peakPerSecond), `≤ ${int(rateLimit.limit)}`, limited.peakPerSecond <= rateLimit.limit),
    ];
    return {
      title: 'fleet at scale',
      figure:
        `${int(tokenCalls)} token calls (${fixed(tokenCalls / floor, 2)} × floor), ${WORKERS} processes × ${int(users)} users, ${durationMs / 1000} s; ` +
        `${fixed(commands / calls, 4)} Redis commands per getToken; miss answered by Redis p99 ${ms(missP99)}; peak ${int(peakPerSecond)} token requests/s`,
      baseline: `floor ${int(floor)}; separate caches would cost ${int(WORKERS * floor)}; ${limitedFigure}`,
      target: 'calls ≤ 1.2 × floor; local hits cost no Redis command; p99 and peaks reported',
      checks,
      metrics: {
        steady: { getTokenCalls: calls, tokenCalls, allTokenCalls: stats.tokenCalls, coldStartMs: coldMs, servedMedianMs: median(servedMs), floor, peakPerSecond, fetched, fromStore, maxPerUser, redisCommands: runCommands, commandsPerGetToken: commands / calls },
        localHits: { calls: hitCalls, renewals: notHits, redisCommands: hitCommands },
        missAnsweredByRedis: { count: storeMiss.length, p50: missP50, p99: missP99, wrongKind: wrongKind.slice(0, 10) },
        rateLimit: { ...rateLimit, ...limited },
        workerLatency: runs.map((r) => ({ p50: r.p50, p99: r.p99, max: r.max })),
        storeNews: news.slice(0, 20),
        redisVersion: redis.version,
      },
      setup,
      notes: [],
    };
  } finally {
    await stopFleet(fleet);
    await emulator?.close();
    admin.disconnect();
    await redis.stop();
  }
};
