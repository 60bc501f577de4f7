/**
 * The Redis the tests run against: REDIS_URL (`.ci/run` starts one and sets it). A test file that
 * needs Redis wraps its tests in {@link describeWithRedis}: when Redis cannot be reached, the tests
 * FAIL when CI is set, and are skipped with a loud warning otherwise (a developer without Redis).
 * Every test file works under its own key prefix and deletes only its own keys.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { Redis, type RedisOptions } from 'ioredis';

/** Whether we run in CI, where a missing Redis is a failure, never a skip. */
export const IN_CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false' && process.env.CI !== '0';

/** The URL of the shared test Redis, or undefined when REDIS_URL is not set. */
export const REDIS_URL = process.env.REDIS_URL || undefined;

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

const redisProblem = await probe(REDIS_URL);
const binaryProblem = probeServerBinary();

function gate(title: string, problem: string | undefined, fn: () => void): void {
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
      `\n⚠⚠⚠ SKIPPED "${title}": ${problem}.\n` +
        '    Start one (redis-server --port 6390 --save "" --appendonly no --daemonize yes) and set\n' +
        '    REDIS_URL=redis://127.0.0.1:6390, or run .ci/run. See README.md, "Fleet mode".\n',
    );
    describe.skip(title, fn);
    // One test that runs: it checks the reason for the skip, and it makes jest run this file's
    // hooks, among them setup.ts's nock.restore(), without which later files in the same worker
    // fail with "Disallowed net connect".
    describe(`${title} (skipped)`, () => {
      it(`is skipped because ${problem}`, () => {
        expect(problem === redisProblem ? probeAgainSync() : probeServerBinary()).toBeDefined();
      });
    });
  }
}

/** Whether REDIS_URL is still unreachable, checked without a client: a TCP connect, synchronously. */
function probeAgainSync(): string | undefined {
  if (REDIS_URL === undefined) return 'REDIS_URL is not set';
  const url = new URL(REDIS_URL);
  const script = `const s=require('net').connect(${Number(url.port || 6379)},${JSON.stringify(url.hostname)});s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(1),2000)`;
  const result = spawnSync(process.execPath, ['-e', script], { timeout: 5_000 });
  return result.status === 0 ? undefined : `nothing listens at ${REDIS_URL}`;
}

/** `describe` for tests that need the shared Redis at REDIS_URL. */
export function describeWithRedis(title: string, fn: () => void): void {
  gate(title, redisProblem, fn);
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

/** Every key under `prefix`, by SCAN (never KEYS). */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

/** Deletes every key under `prefix`, and only those. */
export async function deleteUnder(redis: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(redis, prefix);
  if (keys.length > 0) await redis.unlink(...keys);
}

/** Resolves when `client` is ready, or rejects after `timeoutMs`. */
export function whenReady(client: Redis, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`Redis client not ready within ${timeoutMs} ms (status ${client.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}
