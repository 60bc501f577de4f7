// docs/production.md, "Shutdown": a worker that closes the manager on SIGTERM, after its HTTP
// server has stopped taking requests, finishes the request in progress and exits by itself, with
// exit code 0, and no token request starts after close().
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { killIfRunning, startTsxChild } from './helpers/tsx-child.js';
import { until } from './helpers/until.js';

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
    const said: Record<string, unknown>[] = [];
    const { child, exited } = startTsxChild(CHILD, {
      env: { FLUX_TOKEN_URL: emulator.tokenUrl, FLUX_CLIENT_ID: emulator.clientId, FLUX_CLIENT_SECRET: emulator.clientSecret },
      deadlineMs: EXIT_DEADLINE_MS,
      onLine: (line) => said.push(JSON.parse(line) as Record<string, unknown>),
    });
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

      expect(await exited).toMatchObject({ code: 0, signal: null, killed: false, stderr: '' });
      expect(said.map((line) => Object.keys(line)[0])).toEqual(['port', 'request', 'signal', 'closed']);
      expect(said.at(-1)).toMatchObject({ getTokenAfterClose: 'FLUX_MANAGER_CLOSED', stats: { inFlight: 0, scheduled: 0 } });
      expect(emulator.stats().tokenCalls.total).toBe(1);
    } finally {
      killIfRunning(child);
    }
  }, 60_000);
});
