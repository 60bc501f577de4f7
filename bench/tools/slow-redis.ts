/**
 * The fleet on a slow Redis and on busy cores, from cold. Real clock, fleet worker processes (of
 * the checkout measured), the emulator (a child process) behind a proxy that notes when each token
 * request arrives, every cold start bounded in time (a few minutes in all).
 *
 * 5. Through a delay proxy adding 800 ms to every Redis reply: 4 processes × 60 cold users under
 *    `rateLimit: { limit: 40, interval: 1000 }`: the most token requests in any 1 s (must be ≤ 40).
 * 6. The same proxy: 4 processes × 150 shared cold users, default options: token calls (floor 150).
 *    6b. 4 processes × 150 shared cold users on the Redis Cluster of REDIS_CLUSTER_NODES while two
 *    CPU-burning child processes keep both cores busy: token calls (floor 150).
 *
 *   node --import tsx bench/tools/slow-redis.ts [path/to/other/checkout/lib/index.ts] [--only 5,6,6b]
 *
 * Needs redis-server on PATH (5, 6) and REDIS_CLUSTER_NODES (6b); a case that lacks one says so.
 */
import { randomUUID } from 'node:crypto';
import { startArrivalClock, busiestWindow } from '../../__tests__/helpers/arrival-clock.js';
import { startDelayProxy } from '../../__tests__/helpers/delay-proxy.js';
import { parseNodes, type RedisSpec } from '../../__tests__/helpers/redis-client.js';
import { burnCpus } from '../../__tests__/helpers/cpu-burners.js';
import { coldStart, type ColdStartResult, type ColdStartSpec } from '../lib/fleet-cold-start.js';
import { ms } from '../lib/format.js';
import { checkoutRoot, commitOf, machineLoad } from '../lib/library-under-test.js';
import { startRedisServer } from '../lib/redis-server.js';
import { startRemoteEmulator } from '../lib/remote-emulator.js';
import { parseToolArgs, selected } from '../lib/tool-args.js';

const args = parseToolArgs(process.argv.slice(2), 'slow-redis.ts [other/lib/index.ts] [--only 5,6,6b]');
const root = checkoutRoot(args.libPath);
console.log(`slow-redis: ${root} @ ${commitOf(root)}; ${machineLoad()}`);

/** Added to every Redis reply in cases 5 and 6. */
const REDIS_DELAY_MS = 800;
const PROCESSES = 4;
const COLD_TIMEOUT_MS = 180_000;
/** The CPU burners stop by themselves after this long. */
const BURN_MAX_MS = 240_000;
const run = randomUUID().slice(0, 8);

const emulator = await startRemoteEmulator({ expiresIn: 3_600, latency: 10 });
const clock = await startArrivalClock(emulator.tokenUrl);
const endpoint = { tokenUrl: clock.tokenUrl, clientId: emulator.clientId, clientSecret: emulator.clientSecret, tokenCalls: async () => clock.arrivals.length };

/** A cold start on `redis`; `arrivals`: the instants of its token requests. */
async function measure(label: string, users: number, redis: RedisSpec, extra: Partial<ColdStartSpec['worker']> = {}) {
  const from = clock.arrivals.length;
  const result = await coldStart({
    processes: PROCESSES,
    users,
    label: `${label}-${run}`,
    endpoint,
    root,
    timeoutMs: COLD_TIMEOUT_MS,
    worker: { store: 'redis', redis, keyPrefix: `flux-bench:slow-redis:${run}:${label}:`, ...extra },
  });
  return { result, arrivals: clock.arrivals.slice(from) };
}

const outcome = (r: ColdStartResult) =>
  `all served in ${ms(r.wallMs)}, ${r.failures} failed${r.errors.length > 0 ? ` (${r.errors.join(', ')})` : ''}, ${r.wrongUser} handed to another user, ${r.news} store events`;

try {
  if (selected(args, '5') || selected(args, '6')) {
    const started = await startRedisServer();
    if ('missing' in started) console.log(`5, 6: not run: ${started.missing}`);
    else {
      const proxy = await startDelayProxy(started.server.url, REDIS_DELAY_MS);
      try {
        if (selected(args, '5')) {
          const rateLimit = { limit: 40, interval: 1_000 };
          const { result, arrivals } = await measure('budget', 60, { url: proxy.url }, { rateLimit });
          console.log(
            `5. Redis replies +${REDIS_DELAY_MS} ms, ${PROCESSES} processes × 60 cold users, rateLimit ${rateLimit.limit} per ${rateLimit.interval} ms\n` +
              `  most token requests in any 1 s: ${busiestWindow(arrivals, 1_000)} (must be ≤ ${rateLimit.limit}); ${result.tokenCalls} token calls; ${outcome(result)}`,
          );
        }
        if (selected(args, '6')) {
          const { result } = await measure('shared', 150, { url: proxy.url });
          console.log(`6. Redis replies +${REDIS_DELAY_MS} ms, ${PROCESSES} processes × 150 shared cold users\n  token calls: ${result.tokenCalls} (floor 150); ${outcome(result)}`);
        }
      } finally {
        await proxy.close();
        await started.server.stop();
      }
    }
  }
  if (selected(args, '6b')) {
    const nodes = process.env.REDIS_CLUSTER_NODES;
    if (nodes === undefined || nodes === '') console.log('6b: not run: REDIS_CLUSTER_NODES is not set (e.g. 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003)');
    else {
      const burners = burnCpus(2, BURN_MAX_MS);
      try {
        const { result } = await measure('cluster', 150, { cluster: parseNodes(nodes) });
        console.log(`6b. Redis Cluster ${nodes}, both cores busy, ${PROCESSES} processes × 150 shared cold users\n  token calls: ${result.tokenCalls} (floor 150); ${outcome(result)}`);
      } finally {
        burners.stop();
      }
    }
  }
} finally {
  await clock.close();
  await emulator.close();
}
console.log(machineLoad());
process.exit(0);
