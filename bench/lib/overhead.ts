/**
 * The shared body of the overhead scenarios (got, fetch, axios, undici): the same requests, to the
 * emulator's per-user API, with the token from the manager through an adapter (A) or a static
 * header (B). Then the same alternation of B against a second B: the noise of the measurement.
 */
import { TokenManager } from '../../lib/index.js';
import { alternate } from './ab-rounds.js';
import { headersFrom, userIds, type CallApi, type StaticHeaders } from './api-clients.js';
import { fixed, int, rate } from './format.js';
import { startRemoteEmulator } from './remote-emulator.js';
import { check, type Scenario } from './result.js';

const TARGET_RATIO = 0.95;
const USERS = 20;
const WORKERS = 16;

export interface OverheadSpec {
  title: string;
  /** e.g. `got.extend(gotAuth(manager))`. */
  managedName: string;
  staticName: string;
  managed(manager: TokenManager, apiUrl: string, users: readonly string[]): CallApi;
  static(apiUrl: string, headers: StaticHeaders): CallApi;
  /**
   * The cheapest way to put the header through the same mechanism as the adapter (for undici, an
   * interceptor that only sets it), measured against the static header too: what the mechanism
   * costs whatever the adapter does.
   */
  least?: { name: string; make(apiUrl: string, headers: StaticHeaders): CallApi };
}

export function overheadScenario(spec: OverheadSpec): Scenario {
  return async ({ quick, log }) => {
    const pairs = quick ? 3 : 10;
    const roundMs = quick ? 300 : 600;
    const emulator = await startRemoteEmulator({ expiresIn: 3600 });
    const manager = new TokenManager({ tokenUrl: emulator.tokenUrl, clientId: emulator.clientId, clientSecret: emulator.clientSecret });
    try {
      const users = userIds(USERS);
      const headers = await headersFrom(manager, users);
      const result = await alternate(spec.managed(manager, emulator.url, users), spec.static(emulator.url, headers), {
        pairs,
        roundMs,
        workers: WORKERS,
        users,
      });
      // The same measurement of two identical static clients: how far apart two ways that cost the
      // same come out on this machine, in this run. A ratio closer to 1 than that is not resolved.
      const sameVsSame = await alternate(spec.static(emulator.url, headers), spec.static(emulator.url, headers), { pairs, roundMs, workers: WORKERS, users });
      const leastName = spec.least?.name;
      const least = spec.least === undefined ? undefined : await alternate(spec.least.make(emulator.url, headers), spec.static(emulator.url, headers), { pairs, roundMs, workers: WORKERS, users });
      const stats = await emulator.stats();
      const unauthorized = Object.values(stats.api.unauthorized).reduce((sum, n) => sum + n, 0);
      const failed = [result, sameVsSame, ...(least === undefined ? [] : [least])].reduce((n, r) => n + r.a.failed + r.b.failed, 0);
      log(`${spec.managedName}: ${rate(result.a.perSecond, ' req/s')} (rounds ${result.a.roundRates.map((x) => int(x)).join(', ')})`);
      log(`${spec.staticName}: ${rate(result.b.perSecond, ' req/s')} (rounds ${result.b.roundRates.map((x) => int(x)).join(', ')})`);
      log(`ratio ${fixed(result.ratio, 3)}: median of the pairs ${result.pairRatios.map((x) => fixed(x, 2)).join(', ')} (all rounds together: ${fixed(result.totalRatio, 3)})`);
      log(`the same static client against a second one (no adapter on either side): ratio ${fixed(sameVsSame.ratio, 3)}, pairs ${sameVsSame.pairRatios.map((x) => fixed(x, 2)).join(', ')}`);
      if (least !== undefined) log(`${leastName} against the static header: ratio ${fixed(least.ratio, 3)}, pairs ${least.pairRatios.map((x) => fixed(x, 2)).join(', ')}`);
      log(`client CPU per request: ${fixed(result.a.cpuMicrosPerRequest, 0)} µs vs ${fixed(result.b.cpuMicrosPerRequest, 0)} µs (${fixed(result.b.cpuMicrosPerRequest / result.a.cpuMicrosPerRequest, 3)}); ${int(failed)} failed, ${int(unauthorized)} 401s`);
      if (result.a.samples.length + result.b.samples.length > 0) log(`failures: ${[...result.a.samples, ...result.b.samples].join(' | ')}`);
      return {
        title: spec.title,
        figure: `${rate(result.a.perSecond, ' req/s')} through ${spec.managedName}: ratio ${fixed(result.ratio, 3)} (two identical static clients: ${fixed(sameVsSame.ratio, 3)}${least === undefined ? '' : `; ${leastName}: ${fixed(least.ratio, 3)}`})`,
        baseline: `${spec.staticName}: ${rate(result.b.perSecond, ' req/s')}`,
        target: `ratio ≥ ${TARGET_RATIO}`,
        checks: [
          check('throughput ratio', fixed(result.ratio, 3), `≥ ${TARGET_RATIO}`, result.ratio >= TARGET_RATIO),
          check('failed requests', int(failed), '0', failed === 0),
        ],
        metrics: {
          managedPerSecond: result.a.perSecond,
          staticPerSecond: result.b.perSecond,
          ratio: result.ratio,
          pairRatios: result.pairRatios,
          totalRatio: result.totalRatio,
          cpuMicrosPerRequest: { managed: result.a.cpuMicrosPerRequest, static: result.b.cpuMicrosPerRequest },
          managed: result.a,
          static: result.b,
          emulatorUnauthorized: stats.api.unauthorized,
          sameVsSame: { ratio: sameVsSame.ratio, pairRatios: sameVsSame.pairRatios },
          ...(least === undefined ? {} : { least: { name: leastName, ratio: least.ratio, pairRatios: least.pairRatios } }),
        },
        setup: { users: USERS, workers: WORKERS, pairs, roundMs, warmupRoundsPerArm: 1, emulator: 'child process, expiresIn 3600 s' },
        notes: [],
      };
    } finally {
      await manager.close();
      await emulator.close();
    }
  };
}
