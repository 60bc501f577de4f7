/**
 * The Redis the tests run against: REDIS_URL, one server, and REDIS_CLUSTER_NODES, a Redis Cluster
 * (`.ci/run` starts both and sets both). A test file that needs the shared Redis wraps its tests in
 * {@link describeWithRedis}; one that must hold on a cluster too wraps them in
 * {@link describeEachRedis}, which declares them once per target. When a target cannot be reached,
 * its tests FAIL when CI is set, and are skipped with a loud warning otherwise (a developer without
 * Redis). Every test file works under its own key prefix and deletes only its own keys.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import { createClient, parseNodes, whenReady, type RedisClient, type RedisSpec } from './redis-client.js';

export { deleteUnder, keysUnder, whenReady, type RedisClient } from './redis-client.js';

/** Whether we run in CI, where a missing Redis is a failure, never a skip. */
export const IN_CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false' && process.env.CI !== '0';

/** The URL of the shared test Redis, or undefined when REDIS_URL is not set. */
export const REDIS_URL = process.env.REDIS_URL || undefined;

/** The seed nodes of the test Redis Cluster (`host:port,host:port,...`), or undefined when REDIS_CLUSTER_NODES is not set. */
export const REDIS_CLUSTER_NODES = process.env.REDIS_CLUSTER_NODES ? parseNodes(process.env.REDIS_CLUSTER_NODES) : undefined;

/** Why Redis (at REDIS_URL) cannot be used, or undefined when it answered PING. */
async function probe(url: string | undefined): Promise<string | undefined> {
  if (url === undefined) return 'REDIS_URL is not set';
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return `Redis at ${url} did not answer PING (${(error as Error).message})`;
  } finally {
    client.disconnect();
  }
}

/** Why redis-server cannot be started from PATH, or undefined when it can. */
function probeServerBinary(): string | undefined {
  const result = spawnSync('redis-server', ['--version'], { encoding: 'utf8', timeout: 5_000 });
  return result.status === 0 ? undefined : 'redis-server is not on PATH';
}

/** Why the cluster at REDIS_CLUSTER_NODES cannot be used, or undefined when it reports `cluster_state:ok`. */
async function probeCluster(nodes: string[] | undefined): Promise<string | undefined> {
  if (nodes === undefined) return 'REDIS_CLUSTER_NODES is not set';
  const client = createClient({ cluster: nodes }, { connectTimeout: 2_000, maxRetriesPerRequest: 0 }) as Cluster;
  try {
    await whenReady(client, 5_000);
    const info = await client.cluster('INFO');
    return info.includes('cluster_state:ok') ? undefined : `the Redis Cluster at ${nodes.join(',')} is not ok (${/cluster_state:\w+/.exec(info)?.[0]})`;
  } catch (error) {
    return `the Redis Cluster at ${nodes.join(',')} did not answer (${(error as Error).message})`;
  } finally {
    client.disconnect();
  }
}

const redisProblem = await probe(REDIS_URL);
const clusterProblem = await probeCluster(REDIS_CLUSTER_NODES);
const binaryProblem = probeServerBinary();

const SINGLE_HINT =
  'Start one (redis-server --port 6390 --save "" --appendonly no --daemonize yes) and set\n' +
  '    REDIS_URL=redis://127.0.0.1:6390, or run .ci/run. See docs/fleet.md, "Running the tests locally".';
const CLUSTER_HINT =
  'Start a 3-master cluster as .ci/run does and set REDIS_CLUSTER_NODES=127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,\n' +
  '    or run .ci/run. See docs/fleet.md, "Running the tests locally".';

function gate(title: string, problem: string | undefined, fn: () => void, hint = SINGLE_HINT, recheck = probeAgainSync): void {
  if (problem === undefined) {
    describe(title, fn);
  } else if (IN_CI) {
    describe(title, () => {
      it('needs Redis, which CI must provide (see .ci/run)', () => {
        throw new Error(`${problem}. CI is set, so this is a failure, not a skip.`);
      });
    });
  } else {
    console.warn(
      `\n⚠⚠⚠ SKIPPED "${title}": ${problem}.\n    ${hint}\n`,
    );
    describe.skip(title, fn);
    // One test that runs: it checks the reason for the skip, and it makes jest run this file's
    // hooks, among them setup.ts's nock.restore(), without which later files in the same worker
    // fail with "Disallowed net connect".
    describe(`${title} (skipped)`, () => {
      it(`is skipped because ${problem}`, () => {
        expect(recheck()).toBeDefined();
      });
    });
  }
}

/** Whether something listens at `host:port`, checked without a client: a TCP connect, synchronously. */
function listening(host: string, port: number): boolean {
  const script = `const s=require('net').connect(${port},${JSON.stringify(host)});s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(1),2000)`;
  return spawnSync(process.execPath, ['-e', script], { timeout: 5_000 }).status === 0;
}

/** Whether REDIS_URL is still unreachable. */
function probeAgainSync(): string | undefined {
  if (REDIS_URL === undefined) return 'REDIS_URL is not set';
  const url = new URL(REDIS_URL);
  return listening(url.hostname, Number(url.port || 6379)) ? undefined : `nothing listens at ${REDIS_URL}`;
}

/** Whether the cluster's first node is still unreachable. */
function probeClusterAgainSync(): string | undefined {
  const first = REDIS_CLUSTER_NODES?.[0];
  if (first === undefined) return 'REDIS_CLUSTER_NODES is not set';
  const at = first.lastIndexOf(':');
  return listening(first.slice(0, at), Number(first.slice(at + 1))) ? clusterProblem : `nothing listens at ${first}`;
}

/** `describe` for tests that need the shared Redis at REDIS_URL. */
export function describeWithRedis(title: string, fn: () => void): void {
  gate(title, redisProblem, fn);
}

/** One Redis the shared tests run against. */
export interface RedisTarget {
  /** `redis` (one server) or `cluster` (Redis Cluster). */
  readonly kind: 'redis' | 'cluster';
  /** Where it is, as a fleet worker takes it. */
  readonly spec: RedisSpec;
  /** A new client of it (a process of its own would have one). */
  connect(options?: RedisOptions): RedisClient;
}

/** Both targets; one whose variable is unset is still described (its tests are skipped or fail, see gate). */
const TARGETS: readonly { target: RedisTarget; label: string; problem: string | undefined; hint: string; recheck: () => string | undefined }[] = [
  {
    label: 'on one Redis',
    target: target('redis', { url: REDIS_URL ?? 'redis://127.0.0.1:6390' }),
    problem: redisProblem,
    hint: SINGLE_HINT,
    recheck: probeAgainSync,
  },
  {
    label: 'on a Redis Cluster',
    target: target('cluster', { cluster: REDIS_CLUSTER_NODES ?? [] }),
    problem: clusterProblem,
    hint: CLUSTER_HINT,
    recheck: probeClusterAgainSync,
  },
];

function target(kind: RedisTarget['kind'], spec: RedisSpec): RedisTarget {
  return { kind, spec, connect: (options = {}) => createClient(spec, { connectTimeout: 2_000, ...options }) };
}

/**
 * `describe` once per Redis target: `<title> on one Redis` (REDIS_URL) and `<title> on a Redis
 * Cluster` (REDIS_CLUSTER_NODES), each gated like {@link describeWithRedis}.
 */
export function describeEachRedis(title: string, fn: (target: RedisTarget) => void): void {
  for (const t of TARGETS) {
    const full = `${title} ${t.label}`;
    gate(full, t.problem, () => fn(t.target), t.hint, t.recheck);
  }
}

/** A target for a redis-server that a test started itself. */
export function redisAt(url: string): RedisTarget {
  return target('redis', { url });
}

/** `describe` for tests that start their own redis-server (from PATH). */
export function describeWithRedisServer(title: string, fn: () => void): void {
  gate(title, binaryProblem, fn);
}

/** A key prefix no other test file or run uses. */
export function uniquePrefix(label: string): string {
  return `flux-test:${label}:${randomUUID().slice(0, 8)}:`;
}

/** A client of the test Redis, whose connection errors are left to the test's assertions. */
export function connect(url: string = REDIS_URL ?? '', options: RedisOptions = {}): Redis {
  const client = new Redis(url, { connectTimeout: 2_000, ...options });
  client.on('error', () => {});
  return client;
}
