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
    const results = replies.flatMap((r) => r.results);
    const failed = results.filter((r) => !r.ok);
    return {
      wallMs,
      tokenCalls: (await endpoint.tokenCalls()) - before,
      failures: failed.length,
      wrongUser: results.filter((r) => r.ok && r.owner !== r.scope).length,
      errors: [...new Set(failed.map((r) => r.error ?? 'unknown'))],
      news: fleet.reduce((n, w) => n + w.news.length, 0),
      ...(redisCommands === undefined ? {} : { redisCommands }),
    };
  } finally {
    await stopFleet(fleet);
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
