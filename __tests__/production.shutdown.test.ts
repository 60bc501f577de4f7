// docs/production.md, "Shutdown": a worker that closes the manager on SIGTERM, after its HTTP
// server has stopped taking requests, finishes the request in progress and exits by itself, with
// exit code 0, and no token request starts after close().
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { until } from './helpers/until.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/sigterm-worker.ts', import.meta.url));
/** The child is killed, and the test fails, if it has not exited by itself by then. */
const EXIT_DEADLINE_MS = 20_000;
/** Long enough that SIGTERM lands while the worker waits for the token endpoint. */
const ENDPOINT_LATENCY_MS = 1_500;

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ latency: ENDPOINT_LATENCY_MS });
});

afterAll(() => emulator?.close());

describe('shutdown with close() on SIGTERM', () => {
  it('finishes the request in progress, closes the manager, and exits 0 by itself', async () => {
    const { NODE_OPTIONS: _jestOnly, ...inherited } = process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      cwd: ROOT,
      env: { ...inherited, FLUX_TOKEN_URL: emulator.tokenUrl, FLUX_CLIENT_ID: emulator.clientId, FLUX_CLIENT_SECRET: emulator.clientSecret },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const said: Record<string, unknown>[] = [];
    let stderr = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const line of parts) said.push(JSON.parse(line) as Record<string, unknown>);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    const deadline = setTimeout(() => child.kill('SIGKILL'), EXIT_DEADLINE_MS);
    try {
      await until(() => said.some((line) => 'port' in line) || child.exitCode !== null, 'the worker to listen', EXIT_DEADLINE_MS);
      const port = said.find((line) => 'port' in line)?.port;
      expect(port).toEqual(expect.any(Number));

      // A request that waits for a token, and SIGTERM while it waits.
      const inProgress = fetch(`http://127.0.0.1:${port}/${encodeURIComponent('user 1')}`);
      await until(() => emulator.stats().tokenCalls.total === 1, 'the worker to ask for a token', EXIT_DEADLINE_MS);
      child.kill('SIGTERM');
      const response = await inProgress;
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ user: 'user 1', scope: 'user 1' });

      expect(await exited).toEqual({ code: 0, signal: null });
      expect(stderr).toBe('');
      expect(said.map((line) => Object.keys(line)[0])).toEqual(['port', 'request', 'signal', 'closed']);
      expect(said.at(-1)).toMatchObject({ getTokenAfterClose: 'FLUX_MANAGER_CLOSED', stats: { inFlight: 0, scheduled: 0 } });
      expect(emulator.stats().tokenCalls.total).toBe(1);
    } finally {
      clearTimeout(deadline);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
