/**
 * Storm: 1,000 scopes, none cached, each asked for by 10 callers at once (10,000 concurrent
 * `getToken` calls). One flight per scope means exactly 1,000 token calls, the floor; the queue
 * means never more than `concurrency` of them at once. Each token is then used once against the
 * per-user API, which must accept all of them (a 401 would mean a caller got another user's token).
 */
import { DEFAULT_CONCURRENCY, TokenManager, type Token } from '../../lib/index.js';
import { userIds } from '../lib/api-clients.js';
import { int, ms } from '../lib/format.js';
import { startRemoteEmulator } from '../lib/remote-emulator.js';
import { check, type Scenario } from '../lib/result.js';
import { nowMs } from '../lib/timing.js';

const SCOPES = 1_000;
const CALLERS_PER_SCOPE = 10;
/**
 * Delay of each token answer, in ms. The emulator signs each token synchronously (~1 ms of CPU), so
 * without it requests would rarely overlap inside the emulator and the peak would say nothing
 * about the client's queue; with it, up to `concurrency` answers are pending at once.
 */
const LATENCY_MS = 10;
/** API calls in flight at once while checking the tokens. */
const CHECK_CONCURRENCY = 32;

export const storm: Scenario = async ({ quick, log }) => {
  const scopes = userIds(quick ? 200 : SCOPES, 'storm');
  const emulator = await startRemoteEmulator({ expiresIn: 3600, latency: LATENCY_MS });
  const manager = new TokenManager({
    tokenUrl: emulator.tokenUrl,
    clientId: emulator.clientId,
    clientSecret: emulator.clientSecret,
    concurrency: DEFAULT_CONCURRENCY,
  });
  try {
    await emulator.resetStats();
    const started = nowMs();
    const calls = scopes.flatMap((scope) => Array.from({ length: CALLERS_PER_SCOPE }, () => manager.getToken(scope)));
    const settled = await Promise.allSettled(calls);
    const wallMs = nowMs() - started;
    const stats = await emulator.stats();

    const rejected = settled.filter((s) => s.status === 'rejected');
    // Every caller of a scope must have the very same token.
    let splitScopes = 0;
    const tokens = new Map<string, Token>();
    scopes.forEach((scope, i) => {
      const mine = settled.slice(i * CALLERS_PER_SCOPE, (i + 1) * CALLERS_PER_SCOPE);
      const first = mine[0]!.status === 'fulfilled' ? mine[0]!.value : undefined;
      if (first === undefined || mine.some((s) => s.status !== 'fulfilled' || s.value !== first)) splitScopes++;
      if (first !== undefined) tokens.set(scope, first);
    });

    // Use each token once against its user's API.
    let next = 0;
    const statuses: Record<string, number> = {};
    await Promise.all(
      Array.from({ length: CHECK_CONCURRENCY }, async () => {
        while (next < scopes.length) {
          const scope = scopes[next++]!;
          const token = tokens.get(scope);
          if (token === undefined) continue;
          const response = await fetch(`${emulator.url}/users/${scope}/receipts`, { headers: { authorization: `Bearer ${token.accessToken}` } });
          await response.text();
          statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        }
      }),
    );
    const apiStats = await emulator.stats();
    const unauthorized = Object.values(apiStats.api.unauthorized).reduce((sum, n) => sum + n, 0);
    const tokenCalls = stats.tokenCalls.total;
    const peak = stats.peakConcurrentTokenCalls;
    const floor = scopes.length;

    log(`${int(calls.length)} getToken calls for ${int(scopes.length)} cold scopes settled in ${ms(wallMs)}`);
    log(`token calls ${int(tokenCalls)} (floor ${int(floor)}), peak concurrent ${peak} (queue concurrency ${DEFAULT_CONCURRENCY})`);
    log(`API check: ${JSON.stringify(statuses)}; ${int(unauthorized)} 401s; ${rejected.length} rejected calls; ${splitScopes} scopes whose callers got different tokens`);

    return {
      title: 'storm',
      figure: `${int(tokenCalls)} token calls, ${int(unauthorized)} 401s, ${ms(wallMs)} wall, peak ${peak} concurrent`,
      baseline: `floor ${int(floor)} token calls; queue concurrency ${DEFAULT_CONCURRENCY}`,
      target: `exactly ${int(floor)} calls, no 401, peak ≤ ${DEFAULT_CONCURRENCY}`,
      checks: [
        check('token calls', int(tokenCalls), `= ${int(floor)}`, tokenCalls === floor),
        check('401s on first use', int(unauthorized), '0', unauthorized === 0 && (statuses['200'] ?? 0) === scopes.length),
        check('peak concurrent token calls', String(peak), `≤ ${DEFAULT_CONCURRENCY}`, peak <= DEFAULT_CONCURRENCY),
        check('failed getToken calls', int(rejected.length), '0', rejected.length === 0 && splitScopes === 0),
      ],
      metrics: {
        scopes: scopes.length,
        getTokenCalls: calls.length,
        wallMs,
        tokenCalls,
        floor,
        peakConcurrentTokenCalls: peak,
        concurrency: DEFAULT_CONCURRENCY,
        apiStatuses: statuses,
        unauthorized: apiStats.api.unauthorized,
        rejected: rejected.length,
        splitScopes,
        managerStats: manager.stats(),
      },
      setup: { scopes: scopes.length, callersPerScope: CALLERS_PER_SCOPE, concurrency: DEFAULT_CONCURRENCY, emulator: `child process, RS256 tokens, answers delayed ${LATENCY_MS} ms` },
      notes: [],
    };
  } finally {
    await manager.close();
    await emulator.close();
  }
};
