/**
 * Hot path: `getToken(scope)` answered from the cache, with 10,000 scopes cached, against the
 * least any cache can do: a `Map.get` plus an expiry check. Both loops walk the same random
 * sequence of scopes, in alternating rounds, in the same process.
 *
 * The headline figure counts calls whose promise is not awaited one by one: the `await` is the
 * caller's cost and would be the same for any async API. The awaited rate is reported beside it.
 */
import { TokenManager, type Token } from '../../lib/index.js';
import { startFastTokenServer } from '../lib/fast-token-server.js';
import { fixed, int, rate } from '../lib/format.js';
import { check, type Scenario } from '../lib/result.js';
import { median } from '../lib/stats.js';
import { Deadline, nowMs } from '../lib/timing.js';
import { fullGc } from '../lib/full-gc.js';
import { userIds } from '../lib/api-clients.js';

const SCOPES = 10_000;
const TARGET_PER_SECOND = 2_000_000;
const TARGET_RATIO = 5;
/** Calls per round, and the longest a round may take whatever its count. */
const CALLS_PER_ROUND = 1 << 20;
const ROUND_TIME_LIMIT_MS = 3_000;
const WARMUP_ROUNDS = 3;
/** The deadline is looked at every this many calls, so that reading the clock costs nothing. */
const CHECK_EVERY = 1 << 14;

interface Entry {
  token: Token;
  usableUntil: number;
}

/** Runs `body(i)` for each i of a round, stopping early at the deadline; returns calls per second. */
function timeRound(body: (from: number, to: number) => void): number {
  const deadline = new Deadline(ROUND_TIME_LIMIT_MS);
  const started = nowMs();
  let done = 0;
  while (done < CALLS_PER_ROUND && !deadline.passed) {
    body(done, done + CHECK_EVERY);
    done += CHECK_EVERY;
  }
  return (done / (nowMs() - started)) * 1000;
}

async function timeAwaitedRound(order: readonly string[], manager: TokenManager): Promise<number> {
  const deadline = new Deadline(ROUND_TIME_LIMIT_MS);
  const started = nowMs();
  let done = 0;
  while (done < CALLS_PER_ROUND && !deadline.passed) {
    for (let i = done; i < done + CHECK_EVERY; i++) await manager.getToken(order[i]);
    done += CHECK_EVERY;
  }
  return (done / (nowMs() - started)) * 1000;
}

export const hotPath: Scenario = async ({ quick, log }) => {
  const rounds = quick ? 2 : 5;
  const server = await startFastTokenServer({ expiresIn: 24 * 3600 });
  const manager = new TokenManager({ tokenUrl: server.tokenUrl, clientId: 'bench', clientSecret: 'bench', concurrency: 64 });
  try {
    const scopes = userIds(SCOPES);
    const fillStarted = nowMs();
    const tokens = await Promise.all(scopes.map((scope) => manager.getToken(scope)));
    log(`filled ${int(SCOPES)} scopes over loopback HTTP in ${int(nowMs() - fillStarted)} ms (${int(server.calls)} token calls)`);
    const compacted = fullGc();
    if (!compacted) log('could not force a full GC after the fill; the figure may vary more from run to run');

    // The baseline cache holds the same tokens, with the same margin rule as the manager's.
    const margin = (t: Token) => Math.min(30_000, (t.expiresAt - t.issuedAt) * 0.1);
    const map = new Map<string, Entry>(scopes.map((scope, i) => [scope, { token: tokens[i]!, usableUntil: tokens[i]!.expiresAt - margin(tokens[i]!) }]));
    const order = Array.from({ length: CALLS_PER_ROUND }, () => scopes[Math.floor(Math.random() * SCOPES)]!);

    let sink: unknown;
    const managerRound = () =>
      timeRound((from, to) => {
        for (let i = from; i < to; i++) sink = manager.getToken(order[i]);
      });
    const mapRound = () =>
      timeRound((from, to) => {
        for (let i = from; i < to; i++) {
          const entry = map.get(order[i]!);
          if (entry !== undefined && Date.now() < entry.usableUntil) sink = entry.token;
        }
      });

    // Warm-up rounds, so that both loops are optimised, and the young generation of the heap has
    // grown to its working size (getToken allocates a promise per call), before anything is timed.
    for (let w = 0; w < WARMUP_ROUNDS; w++) {
      managerRound();
      mapRound();
    }
    const before = manager.stats();
    const managerRates: number[] = [];
    const mapRates: number[] = [];
    const awaitedRates: number[] = [];
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        managerRates.push(managerRound());
        mapRates.push(mapRound());
      } else {
        mapRates.push(mapRound());
        managerRates.push(managerRound());
      }
      awaitedRates.push(await timeAwaitedRound(order, manager));
    }
    const after = manager.stats();
    if (sink === undefined) throw new Error('unreachable: the loops produced nothing');

    const perSecond = median(managerRates);
    const baseline = median(mapRates);
    const awaited = median(awaitedRates);
    // Each round of one loop is paired with the adjacent round of the other, so that bursts of load
    // from other jobs on the machine fall on both sides of a ratio.
    const slowdown = median(mapRates.map((m, i) => m / managerRates[i]!));
    const misses = after.misses - before.misses;
    log(`getToken: ${rate(perSecond)} (rounds ${managerRates.map((x) => rate(x)).join(', ')})`);
    log(`baseline Map.get + expiry check: ${rate(baseline)} (rounds ${mapRates.map((x) => rate(x)).join(', ')})`);
    log(`await getToken, one by one: ${rate(awaited)} (informative)`);
    log(`the baseline is ${fixed(slowdown, 1)}× faster (median of the per-round ratios); ${int(misses)} misses during the rounds`);

    return {
      title: 'hot path',
      figure: `${rate(perSecond)} getToken hits (${rate(awaited)} awaited one by one)`,
      baseline: `Map.get + expiry check: ${rate(baseline)} (${fixed(slowdown, 1)}× getToken)`,
      target: '≥ 2,000,000/s, within 5× of the baseline',
      checks: [
        check('getToken hits/s', rate(perSecond), '≥ 2.00 M/s', perSecond >= TARGET_PER_SECOND),
        check('baseline / getToken', `${fixed(slowdown, 2)}×`, `≤ ${TARGET_RATIO}×`, slowdown <= TARGET_RATIO),
        check('misses while timing', int(misses), '0', misses === 0),
      ],
      metrics: {
        getTokenPerSecond: perSecond,
        getTokenRounds: managerRates,
        awaitedPerSecond: awaited,
        awaitedRounds: awaitedRates,
        baselinePerSecond: baseline,
        baselineRounds: mapRates,
        slowdown,
        misses,
        hits: after.hits - before.hits,
      },
      setup: { scopes: SCOPES, rounds, warmupRounds: WARMUP_ROUNDS, callsPerRound: CALLS_PER_ROUND, fill: 'fast loopback token server, 700-char random tokens, concurrency 64', fullGcAfterFill: compacted },
      notes: [],
    };
  } finally {
    await manager.close();
    await server.close();
  }
};
