/**
 * A Redis master, its replica and one Sentinel watching them, each a redis-server child process of
 * the test on loopback, without persistence: for a test that kills the master (SIGKILL) and lets
 * Sentinel promote the replica. Every wait is bounded; `stop()` kills whatever still runs.
 *
 * Ports are free ones asked of the OS, or, for a machine where each user has a range of its own,
 * REDIS_FAILOVER_PORTS=`master,replica,sentinel`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './redis-server.js';
import type { RedisSpec } from './redis-client.js';

/** The name Sentinel knows the master by. */
export const MASTER_NAME = 'fleet-master';
/** Longest wait for a server to say it is ready. */
const START_TIMEOUT_MS = 10_000;
/** Sentinel calls the master down after this long without an answer. */
const DOWN_AFTER_MS = 500;

interface Ports {
  master: number;
  replica: number;
  sentinel: number;
}

async function portsOf(): Promise<Ports> {
  const given = process.env.REDIS_FAILOVER_PORTS;
  if (given !== undefined && given !== '') {
    const [master, replica, sentinel] = given.split(',').map(Number);
    if (![master, replica, sentinel].every((p) => Number.isInteger(p) && p! > 0 && p! < 65536)) {
      throw new Error(`Expected REDIS_FAILOVER_PORTS to be master,replica,sentinel ports, got ${JSON.stringify(given)}`);
    }
    return { master: master!, replica: replica!, sentinel: sentinel! };
  }
  return { master: await freePort(), replica: await freePort(), sentinel: await freePort() };
}

/** Starts `redis-server args`, resolved once its log says `ready`. */
function startServer(args: string[], ready: string): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server ${args.join(' ')} not ready within ${START_TIMEOUT_MS} ms: ${output.slice(-500)}`));
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4_000);
      if (output.includes(ready)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`redis-server ${args.join(' ')} exited (code ${code}, signal ${signal}): ${output.slice(-500)}`));
    });
  });
}

/** Kills `child` (SIGKILL) and waits for it to exit. */
function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  return exited;
}

/** Polls `check` every 50 ms until it returns a value, for at most `timeoutMs`. */
async function pollFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export class SentinelSet {
  readonly ports: Ports;
  readonly #dir: string;
  readonly #children: ChildProcess[];
  readonly #master: ChildProcess;
  readonly #admin: Redis;

  private constructor(ports: Ports, dir: string, children: ChildProcess[], admin: Redis) {
    this.ports = ports;
    this.#dir = dir;
    this.#children = children;
    this.#master = children[0]!;
    this.#admin = admin;
  }

  /** How a client reaches the master through Sentinel. */
  get spec(): RedisSpec {
    return { sentinels: [`127.0.0.1:${this.ports.sentinel}`], name: MASTER_NAME };
  }

  /**
   * Starts the master, the replica and Sentinel, and resolves once the replica is in sync and
   * Sentinel watches both.
   */
  static async start(): Promise<SentinelSet> {
    const ports = await portsOf();
    const dir = await mkdtemp(join(tmpdir(), 'flux-sentinel-'));
    const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
    const children: ChildProcess[] = [];
    let admin: Redis | undefined;
    try {
      children.push(await startServer(['--port', String(ports.master), ...common], 'Ready to accept connections'));
      children.push(
        await startServer(['--port', String(ports.replica), '--replicaof', '127.0.0.1', String(ports.master), ...common], 'Ready to accept connections'),
      );
      const conf = join(dir, 'sentinel.conf');
      await writeFile(
        conf,
        [
          `port ${ports.sentinel}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${ports.master} 1`,
          `sentinel down-after-milliseconds ${MASTER_NAME} ${DOWN_AFTER_MS}`,
          `sentinel failover-timeout ${MASTER_NAME} 10000`,
          `sentinel parallel-syncs ${MASTER_NAME} 1`,
          '',
        ].join('\n'),
      );
      children.push(await startServer([conf, '--sentinel'], 'Sentinel ID is'));
      admin = new Redis({ port: ports.sentinel, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
      admin.on('error', () => {});
      const sentinel = admin;
      const replicaOf = new Redis({ port: ports.replica, host: '127.0.0.1', maxRetriesPerRequest: 1 });
      replicaOf.on('error', () => {});
      try {
        await pollFor('the replica in sync', START_TIMEOUT_MS, async () =>
          (await replicaOf.info('replication')).includes('master_link_status:up') ? true : undefined,
        );
      } finally {
        replicaOf.disconnect();
      }
      await pollFor('Sentinel to see the replica', START_TIMEOUT_MS, async () => {
        const replicas = (await sentinel.call('SENTINEL', 'REPLICAS', MASTER_NAME)) as string[][];
        return replicas.some((r) => r[r.indexOf('port') + 1] === String(ports.replica) && !r[r.indexOf('flags') + 1]?.includes('down'))
          ? true
          : undefined;
      });
      return new SentinelSet(ports, dir, children, sentinel);
    } catch (error) {
      admin?.disconnect();
      await Promise.all(children.map(kill));
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The master's address as Sentinel gives it to clients. */
  async masterPort(): Promise<number> {
    const [, port] = (await this.#admin.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [string, string];
    return Number(port);
  }

  /** Kills the master (SIGKILL: a crash, no clean-up). */
  killMaster(): Promise<void> {
    return kill(this.#master);
  }

  /** Resolves once Sentinel names the replica as the master (the failover is done), within `timeoutMs`. */
  async promoted(timeoutMs = 20_000): Promise<void> {
    await pollFor('no failover to the replica', timeoutMs, async () => ((await this.masterPort()) === this.ports.replica ? true : undefined));
  }

  /** Kills every server, and removes their directory. Idempotent. */
  async stop(): Promise<void> {
    this.#admin.disconnect();
    await Promise.all(this.#children.map(kill));
    await rm(this.#dir, { recursive: true, force: true });
  }
}
