/**
 * A redis-server of the bench's own: Debian's `redis-server` from PATH, on a free loopback port,
 * persistence off (`--save '' --appendonly no`), as a child process that the bench stops at the end
 * whatever happens: in the scenario's `finally`, and, should the bench exit before that (a scenario
 * over its time limit, `process.exit`, SIGINT or SIGTERM), from a process hook that kills it.
 *
 * A missing binary is not an error: {@link startRedisServer} returns the reason, so that the
 * scenario can report SKIPPED with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { within } from './timing.js';

/** Longest wait for "Ready to accept connections". */
const START_TIMEOUT_MS = 10_000;
/** Longest wait for the server to exit after SIGTERM, before SIGKILL. */
const STOP_TIMEOUT_MS = 3_000;
/** A port taken between our probe and redis-server's bind is retried on another one, this many times. */
const START_ATTEMPTS = 3;

/** How to get redis-server, for the SKIPPED note. */
export const INSTALL_HINT = 'install it with `apt-get install redis-server` (Debian/Ubuntu; `.ci/run` does the same), then run `npm run bench -- --only fleet`';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly pid: number | undefined;
  /** The server's `redis_version`, from its start-up banner (or `unknown`). */
  readonly version: string;
  /** SIGTERM, then SIGKILL if it has not exited within 3 s. Idempotent. */
  stop(): Promise<void>;
}

/** Either a running server, or why none could be started because the binary is missing. */
export type RedisStart = { server: RedisServer } | { missing: string };

/** A free TCP port on 127.0.0.1 (asked of the OS, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Servers started and not yet stopped: killed by the exit hooks below. */
const running = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Kills every server still running when the bench process ends, however it ends. */
function installHooks(): void {
  if (hooked) return;
  hooked = true;
  // `exit` listeners run on process.exit() and on a normal end; kill() is synchronous enough.
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

/** One attempt on `port`: the server, `missing` when there is no binary, or an error. */
async function startOn(port: number): Promise<RedisStart> {
  const child = spawn(
    'redis-server',
    // --dir: the working directory for any file Redis might write; with persistence off, none is.
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmpdir()],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const outcome = await new Promise<'ready' | { missing: string } | Error>((resolve) => {
    const timer = setTimeout(() => resolve(new Error(`redis-server on port ${port} not ready within ${START_TIMEOUT_MS / 1000} s: ${output.slice(-500)}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve('ready');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code === 'ENOENT' ? { missing: 'redis-server is not on PATH' } : error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(new Error(`redis-server on port ${port} exited at start-up (code ${code}, signal ${signal}): ${output.slice(-500).trim()}`));
    });
  });
  if (outcome !== 'ready') {
    child.kill('SIGKILL');
    if (outcome instanceof Error) throw outcome;
    return outcome;
  }
  running.add(child);
  // Keep draining its output (it logs on shutdown), without keeping it.
  child.stdout.resume();
  child.stderr.resume();
  let stopping: Promise<void> | undefined;
  const version = /Redis version=([\w.]+)/.exec(output)?.[1] ?? /v=([\w.]+)/.exec(output)?.[1] ?? 'unknown';
  return {
    server: {
      port,
      url: `redis://127.0.0.1:${port}`,
      pid: child.pid,
      version,
      stop: () =>
        (stopping ??= (async () => {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            try {
              await within(exited, STOP_TIMEOUT_MS, 'redis-server shutdown');
            } catch {
              child.kill('SIGKILL');
              await exited;
            }
          }
          running.delete(child);
        })()),
    },
  };
}

/**
 * Starts a redis-server from PATH on a free loopback port (or BENCH_REDIS_PORT), resolved once it
 * accepts connections; or `{ missing }` when there is no redis-server to start. Other failures throw.
 */
export async function startRedisServer(): Promise<RedisStart> {
  installHooks();
  // A machine shared by several users may give each a port range: BENCH_REDIS_PORT picks the port.
  const given = Number(process.env.BENCH_REDIS_PORT);
  if (Number.isInteger(given) && given > 0) return startOn(given);
  let last: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    try {
      return await startOn(await freePort());
    } catch (error) {
      last = error; // most likely the port was taken meanwhile: try another
    }
  }
  throw last;
}
