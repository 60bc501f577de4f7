/**
 * The cold start of a fleet, timed: N worker processes (fleet-worker.ts, of this checkout or of
 * another) on one shared store ask for the same U users at once, from cold; how long until every
 * process has every user, and how many token requests that cost. Shared by the fleet-cold-start
 * scenario and the bench tools that measure the fleet under a slow Redis or busy cores.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { startFleet, stopFleet, type FleetWorker } from '../../__tests__/fixtures/fleet-driver.js';
import type { FleetWorkerConfig, GetReply } from '../../__tests__/fixtures/fleet-protocol.js';
import { DEFAULT_CONCURRENCY } from '../../lib/manager/manager-options.js';
import { commandCounts, countsSince, type CommandCounts } from './command-stats.js';
import { startRemoteEmulator, type RemoteEmulator } from './remote-emulator.js';
import { nowMs } from './timing.js';

/** The endpoint the workers use, and how its requests are counted. */
export interface CountedEndpoint {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Token requests the endpoint has seen so far. */
  tokenCalls(): Promise<number>;
}

export interface ColdStartSpec {
  processes: number;
  users: number;
  /** The store and manager options of every worker (name, tokenUrl and credentials are added). */
  worker: Omit<FleetWorkerConfig, 'name' | 'tokenUrl' | 'clientId' | 'clientSecret'>;
  endpoint: CountedEndpoint;
  /** Prefix of the user ids, so that two runs on one endpoint never share a user. */
  label: string;
  /** The checkout whose fleet worker runs (default: this one). */
  root?: string;
  /** Bound on the cold `get` of every worker. */
  timeoutMs: number;
  /** A client of the workers' Redis: the commands of the timed part are counted on it. */
  counter?: Redis;
}

export interface ColdStartResult {
  /** From the first `get` sent to the last reply: every process has every user. */
  wallMs: number;
  tokenCalls: number;
  failures: number;
  /** Tokens handed out for another user than the one asked for. */
  wrongUser: number;
  /** The errors of the failed calls (codes, distinct). */
  errors: string[];
  /** Store news (degraded, recovered, rejected) the workers reported. */
  news: number;
  /** Commands Redis ran from the first `get` to the last reply (with `counter`), by name. */
  redisCommands?: CommandCounts;
}

/** What the replies of a timed `get` say: failures (their distinct codes) and tokens of another user. */
function tally(replies: readonly GetReply[]): { failures: number; wrongUser: number; errors: string[] } {
  const results = replies.flatMap((r) => r.results);
  const failed = results.filter((r) => !r.ok);
  return {
    failures: failed.length,
    wrongUser: results.filter((r) => r.ok && r.owner !== r.scope).length,
    errors: [...new Set(failed.map((r) => r.error ?? 'unknown'))],
  };
}

/** Starts the fleet (not timed), times the cold `get` of every user on every worker, stops the fleet. */
export async function coldStart(spec: ColdStartSpec): Promise<ColdStartResult> {
  const { endpoint } = spec;
  let fleet: FleetWorker[] = [];
  try {
    fleet = await startFleet(
      spec.processes,
      { ...spec.worker, name: spec.label, tokenUrl: endpoint.tokenUrl, clientId: endpoint.clientId, clientSecret: endpoint.clientSecret },
      spec.root,
    );
    const users = Array.from({ length: spec.users }, (_, i) => `${spec.label}-user-${i}`);
    const before = await endpoint.tokenCalls();
    const commandsBefore = spec.counter === undefined ? undefined : await commandCounts(spec.counter);
    const started = nowMs();
    const replies: GetReply[] = await Promise.all(fleet.map((w) => w.get(users, spec.timeoutMs)));
    const wallMs = nowMs() - started;
    const redisCommands = spec.counter === undefined || commandsBefore === undefined ? undefined : countsSince(commandsBefore, await commandCounts(spec.counter));
    return {
      wallMs,
      tokenCalls: (await endpoint.tokenCalls()) - before,
      ...tally(replies),
      news: fleet.reduce((n, w) => n + w.news.length, 0),
      ...(redisCommands === undefined ? {} : { redisCommands }),
    };
  } finally {
    await stopFleet(fleet);
  }
}

/** What {@link fleetFloor} measured. */
export interface FleetFloor {
  /** From the first `get` sent to the last reply. */
  wallMs: number;
  /** Token requests in that time: the fetching process's, one per user. */
  tokenCalls: number;
  failures: number;
  wrongUser: number;
  errors: string[];
}

/**
 * The least time any way of sharing a cold start can take on this machine: ONE process whose queue
 * admits `processes` × 8 requests fetches U cold users while `processes` − 1 other processes each
 * read U other users whose tokens are already in Redis. A process that waits for another one's
 * renewal must at least read the finished token once, so no protocol makes N processes serve U
 * shared cold users faster than this; on a machine with fewer cores than processes, their reads
 * compete with the fetching for the CPU. The tokens to read are fetched first by a process of its
 * own, not timed, and every process is fresh when the timed part starts, as in {@link coldStart}.
 */
export async function fleetFloor(o: { processes: number; users: number; latencyMs: number; redisUrl: string; root?: string; timeoutMs: number }): Promise<FleetFloor> {
  const emulator = await startRemoteEmulator({ expiresIn: 3_600, latency: o.latencyMs });
  let workers: FleetWorker[] = [];
  try {
    const config = {
      store: 'redis',
      redis: { url: o.redisUrl },
      keyPrefix: `flux-bench:floor:${randomUUID().slice(0, 8)}:`,
      tokenUrl: emulator.tokenUrl,
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
    } as const;
    const singleConcurrency = o.processes * DEFAULT_CONCURRENCY;
    const stored = Array.from({ length: o.users }, (_, i) => `floor-stored-${i}`);
    const cold = Array.from({ length: o.users }, (_, i) => `floor-cold-${i}`);
    const filler = await startFleet(1, { ...config, name: 'floor-fill', concurrency: singleConcurrency }, o.root);
    try {
      const filled = await filler[0]!.get(stored, o.timeoutMs);
      if (filled.results.some((r) => !r.ok)) throw new Error('the fleet floor could not store the tokens its readers read');
    } finally {
      await stopFleet(filler);
    }
    const fetcher = await startFleet(1, { ...config, name: 'floor-fetch', concurrency: singleConcurrency }, o.root);
    workers = fetcher;
    const readers = await startFleet(o.processes - 1, { ...config, name: 'floor-read' }, o.root);
    workers = [...fetcher, ...readers];
    const endpoint = emulatorEndpoint(emulator);
    const before = await endpoint.tokenCalls();
    const started = nowMs();
    const replies: GetReply[] = await Promise.all([fetcher[0]!.get(cold, o.timeoutMs), ...readers.map((w) => w.get(stored, o.timeoutMs))]);
    const wallMs = nowMs() - started;
    return { wallMs, tokenCalls: (await endpoint.tokenCalls()) - before, ...tally(replies) };
  } finally {
    await stopFleet(workers);
    await emulator.close();
  }
}

/** The emulator's token requests, as a {@link CountedEndpoint}. */
export function emulatorEndpoint(emulator: RemoteEmulator): CountedEndpoint {
  return { tokenUrl: emulator.tokenUrl, clientId: emulator.clientId, clientSecret: emulator.clientSecret, tokenCalls: async () => (await emulator.stats()).tokenCalls.total };
}

export interface FleetAgainstOne {
  fleet: ColdStartResult;
  /** One process with `processes` × its concurrency. */
  single: ColdStartResult;
  /** fleet.wallMs / single.wallMs. */
  ratio: number;
  singleConcurrency: number;
}

/**
 * The time N processes (default options) take to serve U shared cold users, against one process
 * whose queue admits N times as many requests at once, both on the Redis at `redisUrl` (fresh key
 * prefixes) and the emulator with `latencyMs` per answer. When the fleet shares its work well,
 * the two take about as long: N queues of `concurrency` are one queue of N × `concurrency`.
 */
export async function fleetAgainstOne(o: { processes: number; users: number; latencyMs: number; redisUrl: string; root?: string; timeoutMs: number }): Promise<FleetAgainstOne> {
  const emulator = await startRemoteEmulator({ expiresIn: 3_600, latency: o.latencyMs });
  const counter = new Redis(o.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  counter.on('error', () => {});
  try {
    const endpoint = emulatorEndpoint(emulator);
    const run = randomUUID().slice(0, 8);
    const common = { users: o.users, endpoint, timeoutMs: o.timeoutMs, counter, ...(o.root === undefined ? {} : { root: o.root }) };
    const store = { store: 'redis', redis: { url: o.redisUrl } } as const;
    const fleet = await coldStart({ ...common, processes: o.processes, label: 'fleet', worker: { ...store, keyPrefix: `flux-bench:cold:${run}:fleet:` } });
    const singleConcurrency = o.processes * DEFAULT_CONCURRENCY;
    const single = await coldStart({ ...common, processes: 1, label: 'single', worker: { ...store, keyPrefix: `flux-bench:cold:${run}:single:`, concurrency: singleConcurrency } });
    return { fleet, single, ratio: fleet.wallMs / single.wallMs, singleConcurrency };
  } finally {
    counter.disconnect();
    await emulator.close();
  }
}
