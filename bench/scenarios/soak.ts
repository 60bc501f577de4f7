/**
 * Soak: 2 s tokens, 50 users, 32 requests in flight through the adapters (half got + gotAuth, half
 * authFetch), for 30 s. Every token is renewed about 20 times during the run, so this is where a
 * manager that renews late (callers wait, p99 grows), renews too often (token calls above the
 * floor) or hands out a token too close to its end (401s) shows it.
 *
 * The baseline runs at the same time, with the same load shape: 32 more requests in flight, the
 * same users, the same split between got and fetch, with static headers holding hour-long tokens
 * from a second emulator child. The two streams share the client process, the machine and the
 * whole 30 s, so a burst of load from another job falls on both, and the p99s compare like with
 * like. (A separate phase before or after the soak was tried first: on a shared machine the p99
 * then says more about the neighbours than about the manager.)
 *
 * One cost is the emulator's, not the manager's: the emulator signs each token (RSA, ~1 ms of CPU)
 * in the process that also answers the API, so the API requests queued behind a signing wait.
 * Flux's token endpoint and API are separate servers. To keep that artefact out of the ratio, the
 * baseline's emulator is asked for a token each time the manager gets one, so that both API
 * servers do the same signing work at the same moments.
 */
import { TokenEndpoint, TokenManager } from '../../lib/index.js';
import { headersFrom, managedFetch, managedGot, staticFetch, staticGot, userIds } from '../lib/api-clients.js';
import { fixed, int, ms, rate } from '../lib/format.js';
import { runLoad, type LoadResult } from '../lib/load.js';
import { mixedTraffic, total } from '../lib/mixed-traffic.js';
import { startRemoteEmulator } from '../lib/remote-emulator.js';
import { check, type Scenario } from '../lib/result.js';
import type { LatencySummary } from '../lib/stats.js';
import { timelineOf, tokenCallFloor } from '../lib/token-timeline.js';
import { nowMs } from '../lib/timing.js';

const LIFETIME_S = 2;
const USERS = 50;
const WORKERS = 32;
const MAX_CALLS_RATIO = 1.1;
const MAX_P99_RATIO = 1.2;
/** Far above what loopback HTTP does on two cores; the duration is what ends the run. */
const MAX_REQUESTS_PER_SECOND = 50_000;

function describeLoad(name: string, result: LoadResult, s: LatencySummary): string {
  return `${name}: ${int(result.requests)} requests in ${ms(result.elapsedMs)} (${rate((result.requests / result.elapsedMs) * 1000, ' req/s')}), p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, max ${ms(s.max)}, ${int(result.failed)} failed`;
}

export const soak: Scenario = async ({ quick, log }) => {
  const durationMs = quick ? 6_000 : 30_000;
  const users = userIds(USERS);
  const load = { workers: WORKERS, durationMs, maxRequests: (MAX_REQUESTS_PER_SECOND * durationMs) / 1000 };

  const [emulator, longLived] = await Promise.all([startRemoteEmulator({ expiresIn: LIFETIME_S }), startRemoteEmulator({ expiresIn: 3600 })]);
  const manager = new TokenManager({ tokenUrl: emulator.tokenUrl, clientId: emulator.clientId, clientSecret: emulator.clientSecret });
  let refreshFailed = 0;
  manager.on('refreshFailed', () => refreshFailed++);
  try {
    // The baseline's hour-long tokens, fetched up front and then sent as static headers.
    const fetcher = new TokenManager({ tokenUrl: longLived.tokenUrl, clientId: longLived.clientId, clientSecret: longLived.clientSecret });
    const headers = await headersFrom(fetcher, users);
    await fetcher.close();

    // Both streams start warm: the baseline's tokens were fetched above, and the manager fetches
    // its first 50 here. Those first calls count towards the floor (its "+ 1"), and the run is
    // timed from the start of the warm-up; only the latency of the cold fetch is left out, as it
    // is for the baseline (it is the same for any token client, and it is not what the soak is
    // about: renewals that make callers wait).
    await emulator.resetStats();
    const warmStarted = nowMs();
    await Promise.all(users.map((user) => manager.getToken(user)));
    const warmMs = nowMs() - warmStarted;
    const mirror = new TokenEndpoint({ tokenUrl: longLived.tokenUrl, clientId: longLived.clientId, clientSecret: longLived.clientSecret });
    let mirrored = 0;
    manager.on('token', () => {
      mirrored++;
      mirror.clientCredentials({ scope: 'mirror' }).catch(() => {});
    });
    const [managed, baseline] = await Promise.all([
      runLoad(mixedTraffic(managedGot(manager, emulator.url), managedFetch(manager, emulator.url, users), users), load),
      runLoad(mixedTraffic(staticGot(longLived.url, headers), staticFetch(longLived.url, headers), users), load),
    ]);
    const stats = await emulator.stats();
    const managerStats = manager.stats();
    const s = managed.latencies.summary();
    const base = baseline.latencies.summary();
    log(`warm-up: ${USERS} tokens in ${ms(warmMs)}`);
    log(describeLoad('managed (2 s tokens, gotAuth + authFetch)', managed, s));
    log(describeLoad('baseline (static headers, 1 h tokens), alongside', baseline, base));

    const timeline = timelineOf(LIFETIME_S * 1000);
    const floor = tokenCallFloor(USERS, warmMs + managed.elapsedMs, timeline);
    const tokenCalls = stats.tokenCalls.total;
    const unauthorized = total(stats.api.unauthorized);
    const p99Ratio = s.p99 / base.p99;
    log(
      `token calls ${int(tokenCalls)} (${int(stats.tokenCalls.byGrant.refresh_token)} refresh, ${int(stats.tokenCalls.byGrant.client_credentials)} client credentials, ${stats.tokenCalls.invalidGrant} invalid_grant); floor ${int(floor)} = ${USERS} × (${fixed((warmMs + managed.elapsedMs) / 1000, 1)} s / (${LIFETIME_S} s − ${timeline.refreshWindowMs / 1000} s) + 1)`,
    );
    log(`401s at the API ${int(unauthorized)} ${JSON.stringify(stats.api.unauthorized)}; refreshFailed events ${refreshFailed}; p99 ratio ${fixed(p99Ratio, 2)}`);
    if (managed.samples.length > 0) log(`failures: ${managed.samples.join(' | ')}`);

    return {
      title: 'soak',
      figure: `${int(tokenCalls)} token calls, ${int(managed.failed)} failed, ${int(unauthorized)} 401s, p99 ${ms(s.p99)} (${int(managed.requests)} requests)`,
      baseline: `floor ${int(floor)} token calls; static-header p99 ${ms(base.p99)} (alongside)`,
      target: `0 failed, 0 401s, calls ≤ ${MAX_CALLS_RATIO} × floor, p99 ≤ ${MAX_P99_RATIO} × baseline`,
      checks: [
        check('failed requests', int(managed.failed), '0', managed.failed === 0),
        check('401s at the API', int(unauthorized), '0', unauthorized === 0),
        check('token calls', `${int(tokenCalls)} (${fixed(tokenCalls / floor, 2)} × floor)`, `≤ ${int(MAX_CALLS_RATIO * floor)}`, tokenCalls <= MAX_CALLS_RATIO * floor),
        check('p99 latency', `${ms(s.p99)} (${fixed(p99Ratio, 2)} × baseline)`, `≤ ${ms(MAX_P99_RATIO * base.p99)}`, p99Ratio <= MAX_P99_RATIO),
      ],
      metrics: {
        tokenCalls,
        tokenCallsByGrant: stats.tokenCalls.byGrant,
        invalidGrant: stats.tokenCalls.invalidGrant,
        floor,
        callsOverFloor: tokenCalls / floor,
        unauthorized: stats.api.unauthorized,
        managed: { requests: managed.requests, failed: managed.failed, outcomes: managed.outcomes, elapsedMs: managed.elapsedMs, latency: s },
        baseline: { requests: baseline.requests, failed: baseline.failed, outcomes: baseline.outcomes, elapsedMs: baseline.elapsedMs, latency: base },
        p99Ratio,
        warmMs,
        mirroredTokenCalls: mirrored,
        refreshFailed,
        managerStats,
      },
      setup: {
        lifetimeS: LIFETIME_S,
        users: USERS,
        workers: WORKERS,
        durationMs,
        refreshWindowMs: timeline.refreshWindowMs,
        marginMs: timeline.marginMs,
        traffic: 'closed loop, 32 workers through the adapters (16 got + gotAuth, 16 authFetch) and, at the same time, 32 with static headers (16 got, 16 fetch); users in turn',
        baseline: 'concurrent stream against a second emulator child whose tokens live 1 h; that emulator is asked for one token each time the manager gets one (same signing work on both API servers)',
        manager: 'defaults (concurrency 8, refresh_token grant)',
      },
      notes: [],
    };
  } finally {
    await manager.close();
    await Promise.all([emulator.close(), longLived.close()]);
  }
};
