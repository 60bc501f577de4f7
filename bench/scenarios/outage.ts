/**
 * Outage: 20 s tokens, 20 users, a steady paced load through both adapters; the token endpoint
 * answers 500 to everything for 2 s, starting at a random moment after the warm-up.
 *
 * The moment is drawn from the span in which the outage is sure to cover the start of every
 * token's renewal (all 20 tokens are issued together at the warm-up), so that every run exercises
 * failed renewals; an outage that fell where no token is renewed would prove nothing. The promise
 * under test: a token whose renewal fails keeps being served until its margin, and the outage is
 * shorter than the refresh window minus the margin, so no request fails.
 */
import { TokenManager } from '../../lib/index.js';
import { managedFetch, managedGot, userIds } from '../lib/api-clients.js';
import { fixed, int, ms, rate } from '../lib/format.js';
import { runLoad } from '../lib/load.js';
import { mixedTraffic, total } from '../lib/mixed-traffic.js';
import { startRemoteEmulator } from '../lib/remote-emulator.js';
import { check, type Scenario } from '../lib/result.js';
import { timelineOf } from '../lib/token-timeline.js';
import { nowMs, sleep } from '../lib/timing.js';

const USERS = 20;
const WORKERS = 8;
/** Each worker rests this long between requests: a steady load of a few hundred requests/s. */
const PAUSE_MS = 10;
/** Leeway kept between the outage and the timeline's edges, in ms. */
const SLACK_MS = 100;

export const outage: Scenario = async ({ quick, log }) => {
  const lifetimeS = quick ? 8 : 20;
  const outageMs = quick ? 1_000 : 2_000;
  const timeline = timelineOf(lifetimeS * 1000);
  // The load outlasts the renewals, so that the renewed tokens are used too.
  const durationMs = timeline.usableUntilMs + 2_000;
  // The outage must start no later than the first renewal and end after the last one starts.
  const earliest = timeline.refreshToMs - outageMs + SLACK_MS;
  const latest = timeline.refreshFromMs - SLACK_MS;
  if (earliest > latest || latest + outageMs >= timeline.usableUntilMs) throw new Error('the outage does not fit the token timeline');

  const users = userIds(USERS);
  const emulator = await startRemoteEmulator({ expiresIn: lifetimeS });
  const manager = new TokenManager({ tokenUrl: emulator.tokenUrl, clientId: emulator.clientId, clientSecret: emulator.clientSecret });
  const refreshFailures: string[] = [];
  manager.on('refreshFailed', (e) => refreshFailures.push(`${e.grant}/${e.background ? 'background' : 'foreground'}/${e.next}`));
  try {
    // Warm-up: every user's token, issued together; the timeline runs from here.
    const warmStarted = nowMs();
    await Promise.all(users.map((user) => manager.getToken(user)));
    const t0 = warmStarted;
    await emulator.resetStats();

    const startOffset = earliest + Math.random() * (latest - earliest);
    let outageWindow = { from: Number.NaN, to: Number.NaN };
    const fault = (async () => {
      await sleep(t0 + startOffset - nowMs());
      await emulator.setFault('500');
      const from = nowMs() - t0;
      await sleep(outageMs);
      await emulator.setFault('none');
      outageWindow = { from, to: nowMs() - t0 };
    })();
    const result = await runLoad(mixedTraffic(managedGot(manager, emulator.url), managedFetch(manager, emulator.url, users), users), {
      workers: WORKERS,
      durationMs: durationMs - (nowMs() - t0),
      maxRequests: durationMs, // at most 1,000 requests/s, several times the paced rate
      pauseMs: PAUSE_MS,
    });
    await fault;
    const stats = await emulator.stats();
    const answered500 = stats.tokenCalls.byStatus['500'] ?? 0;
    const unauthorized = total(stats.api.unauthorized);
    const lat = result.latencies.summary();

    log(`tokens of ${lifetimeS} s: renewal starts ${fixed(timeline.refreshFromMs / 1000, 2)}–${fixed(timeline.refreshToMs / 1000, 2)} s after issue, served until ${fixed(timeline.usableUntilMs / 1000, 1)} s`);
    log(`outage (every token call answered 500) from ${fixed(outageWindow.from / 1000, 2)} s to ${fixed(outageWindow.to / 1000, 2)} s after the warm-up`);
    log(`${int(result.requests)} requests in ${ms(result.elapsedMs)} (${rate((result.requests / result.elapsedMs) * 1000, ' req/s')}), p99 ${ms(lat.p99)}, max ${ms(lat.max)}; ${int(result.failed)} failed; ${int(unauthorized)} 401s`);
    log(`token calls ${int(stats.tokenCalls.total)} (${int(answered500)} answered 500); refreshFailed events: ${refreshFailures.length} ${JSON.stringify(countOf(refreshFailures))}`);
    if (result.samples.length > 0) log(`failures: ${result.samples.join(' | ')}`);

    return {
      title: 'outage',
      figure: `${int(result.failed)} failed of ${int(result.requests)} requests; ${int(answered500)} token calls answered 500`,
      baseline: '—',
      target: '0 failed requests',
      checks: [
        check('failed requests', int(result.failed), '0', result.failed === 0),
        check('401s at the API', int(unauthorized), '0', unauthorized === 0),
        // Not a target in itself, but without it the scenario would prove nothing.
        check('renewals that met the outage', int(answered500), '≥ 1', answered500 > 0),
      ],
      metrics: {
        requests: result.requests,
        failed: result.failed,
        outcomes: result.outcomes,
        latency: lat,
        outageFromMs: outageWindow.from,
        outageToMs: outageWindow.to,
        tokenCalls: stats.tokenCalls,
        unauthorized: stats.api.unauthorized,
        refreshFailed: countOf(refreshFailures),
        managerStats: manager.stats(),
      },
      setup: {
        lifetimeS,
        outageMs,
        users: USERS,
        workers: WORKERS,
        pauseMs: PAUSE_MS,
        durationMs,
        outageStartRangeMs: [earliest, latest],
        refreshWindowMs: timeline.refreshWindowMs,
        marginMs: timeline.marginMs,
      },
      notes: [],
    };
  } finally {
    await manager.close();
    await emulator.close();
  }
};

function countOf(items: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item] = (counts[item] ?? 0) + 1;
  return counts;
}
