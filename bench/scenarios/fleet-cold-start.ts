/**
 * Fleet cold start: N worker processes (default options, concurrency 8 each) on one Redis (a
 * redis-server the scenario starts itself; RedisTokenStore defaults) ask for the same U users at
 * once, from cold, against the emulator (a child process) answering in 50 ms; then ONE process
 * whose concurrency is N × 8 does the same, in the same run. When a wait for another process's
 * lock holds no slot of the queue, the fleet is about as fast as the one big process: the ratio of
 * the two times is the figure (target ≤ 1.5). The token calls have a floor of U, one per user
 * (target ≤ 1.2 × U, as in fleet-scale: a process that gives up waiting fetches a user again).
 * The Redis commands of the fleet's cold start are counted too: each process reads each user, so
 * they grow with N × U, and on a machine with fewer cores than N they are what the fleet waits for.
 * So the same comparison runs again with one process per core (N = the machine's cores), as a
 * fleet of machines would have: there the sharing is measured without the CPU being the bound.
 * And the floor of any sharing on this machine is measured (see fleetFloor): one process of
 * concurrency N × 8 fetching the U users while N − 1 processes each read U tokens already in Redis,
 * against the one process alone.
 *
 * Without redis-server on PATH, the scenario is SKIPPED (with how to install it), not failed.
 */
import { availableParallelism } from 'node:os';
import { totalOf } from '../lib/command-stats.js';
import { fleetAgainstOne, fleetFloor, type FleetAgainstOne } from '../lib/fleet-cold-start.js';
import { fixed, int, ms } from '../lib/format.js';
import { INSTALL_HINT, startRedisServer } from '../lib/redis-server.js';
import { check, skippedResult, type Scenario } from '../lib/result.js';

const PROCESSES = 8;
const LATENCY_MS = 50;
/** The fleet may take this many times as long as the one process, at most. */
const TARGET_RATIO = 1.5;
/** The fleet's token calls may exceed the floor (one per user) by this factor, as in fleet-scale. */
const MAX_CALLS_PER_FLOOR = 1.2;
/** Bound on each cold start (a busy machine is slow to sign and to start workers). */
const COLD_GET_TIMEOUT_MS = 120_000;

export const fleetColdStart: Scenario = async ({ quick, log }) => {
  const users = quick ? 200 : 800;
  const setup = {
    processes: PROCESSES,
    users,
    emulator: `child process, RS256 tokens, answers delayed ${LATENCY_MS} ms`,
    redis: 'redis-server from PATH, own process, loopback, --save "" --appendonly no',
    store: 'RedisTokenStore defaults, no encryption',
    manager: `TokenManager defaults (concurrency 8); the single process: concurrency ${PROCESSES * 8}`,
  };
  const started = await startRedisServer();
  if ('missing' in started) return skippedResult('fleet cold start', started.missing, INSTALL_HINT, setup);
  const redis = started.server;
  log(`redis-server ${redis.version} on 127.0.0.1:${redis.port}, persistence off`);
  try {
    const compare = async (processes: number): Promise<FleetAgainstOne> => {
      const r = await fleetAgainstOne({ processes, users, latencyMs: LATENCY_MS, redisUrl: redis.url, timeoutMs: COLD_GET_TIMEOUT_MS });
      const commands = totalOf(r.fleet.redisCommands ?? {});
      log(`${processes} processes × ${int(users)} shared cold users: all served in ${ms(r.fleet.wallMs)}, ${int(r.fleet.tokenCalls)} token calls (floor ${int(users)}), ${int(commands)} Redis commands (${fixed(commands / (processes * users), 2)} per user per process)`);
      log(`1 process (concurrency ${r.singleConcurrency}) × ${int(users)} cold users: all served in ${ms(r.single.wallMs)}, ${int(r.single.tokenCalls)} token calls, ${int(totalOf(r.single.redisCommands ?? {}))} Redis commands`);
      log(`ratio ${fixed(r.ratio, 2)} (target ≤ ${TARGET_RATIO})`);
      return r;
    };
    const r = await compare(PROCESSES);
    // The least any sharing could take here: reads of finished tokens compete with the fetching.
    const floor = await fleetFloor({ processes: PROCESSES, users, latencyMs: LATENCY_MS, redisUrl: redis.url, timeoutMs: COLD_GET_TIMEOUT_MS });
    const floorRatio = floor.wallMs / r.single.wallMs;
    log(`floor: 1 process (concurrency ${r.singleConcurrency}) fetching ${int(users)} cold users while ${PROCESSES - 1} processes each read ${int(users)} tokens already in Redis: ${ms(floor.wallMs)}, ${fixed(floorRatio, 2)} × the one process alone (${int(floor.tokenCalls)} token calls)`);
    const cores = Math.max(2, availableParallelism());
    const perCore = cores < PROCESSES ? await compare(cores) : undefined;
    const failures = r.fleet.failures + r.single.failures + floor.failures + (perCore === undefined ? 0 : perCore.fleet.failures + perCore.single.failures);
    const wrongUser = r.fleet.wrongUser + r.single.wrongUser + floor.wrongUser + (perCore === undefined ? 0 : perCore.fleet.wrongUser + perCore.single.wrongUser);
    const errors = [...new Set([r, ...(perCore === undefined ? [] : [perCore])].flatMap((x) => [...x.fleet.errors, ...x.single.errors]).concat(floor.errors))];
    return {
      title: 'fleet cold start',
      figure: `${PROCESSES} processes × ${int(users)} shared cold users in ${ms(r.fleet.wallMs)}, ${fixed(r.ratio, 2)} × one process of concurrency ${r.singleConcurrency} (${ms(r.single.wallMs)}; floor of any sharing here ${fixed(floorRatio, 2)} ×); ${int(r.fleet.tokenCalls)} token calls`,
      baseline: `one process of concurrency ${r.singleConcurrency}: ${ms(r.single.wallMs)}; floor ${int(users)} token calls`,
      target: `fleet ≤ ${TARGET_RATIO} × one process; token calls ≤ ${MAX_CALLS_PER_FLOOR} × floor`,
      checks: [
        check('fleet time against one process', `${fixed(r.ratio, 2)} ×`, `≤ ${TARGET_RATIO} ×`, r.ratio <= TARGET_RATIO),
        ...(perCore === undefined
          ? []
          : [check(`the same with one process per core (${cores} × ${perCore.singleConcurrency / cores})`, `${fixed(perCore.ratio, 2)} × (${ms(perCore.fleet.wallMs)} vs ${ms(perCore.single.wallMs)})`, `≤ ${TARGET_RATIO} ×`, perCore.ratio <= TARGET_RATIO)]),
        check('token calls of the fleet', `${int(r.fleet.tokenCalls)} (${fixed(r.fleet.tokenCalls / users, 2)} × floor)`, `≤ ${MAX_CALLS_PER_FLOOR} × ${int(users)}`, r.fleet.tokenCalls <= MAX_CALLS_PER_FLOOR * users),
        check('failed getToken calls', `${int(failures)}${failures > 0 ? ` (${errors.join(', ')})` : ''}`, '0', failures === 0),
        check('tokens handed to another user', int(wrongUser), '0', wrongUser === 0),
      ],
      metrics: { fleet: r.fleet, single: r.single, ratio: r.ratio, floor: { ...floor, ratio: floorRatio }, singleConcurrency: r.singleConcurrency, redisVersion: redis.version, ...(perCore === undefined ? {} : { perCore: { processes: cores, ...perCore } }) },
      setup,
      notes: [],
    };
  } finally {
    await redis.stop();
  }
};
