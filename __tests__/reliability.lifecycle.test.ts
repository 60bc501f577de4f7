/**
 * Lifecycle: a worker process that uses the manager through the HTTP adapters exits by itself when
 * its work is done; close() during an in-flight storm rejects every waiter at once and cleanly; and
 * once the manager and the emulator are closed, no socket, server or timer is left
 * (`process.getActiveResourcesInfo()`, compared with the count before the test).
 */
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import got, { RequestError } from 'got';
import { startEmulator } from '../lib/emulator/index.js';
import { authFetch, TokenManager, TokenManagerClosedError } from '../lib/index.js';
import { gotAuth } from '../lib/http/got.js';
import {
  activeResources,
  expectNoResourcesAbove,
  failOnUnhandledRejections,
  rejectionOf,
  resourcesAbove,
  settle,
  waitUntil,
  within,
} from './helpers/reliability.js';
import { runTsxChild } from './helpers/tsx-child.js';

failOnUnhandledRejections();

const CHILD = fileURLToPath(new URL('./helpers/adapter-child.ts', import.meta.url));
/** The child is killed, and the test fails, if it has not exited by itself by then. */
const EXIT_DEADLINE_MS = 15_000;

const runChild = (env: Record<string, string>) => runTsxChild(CHILD, { env, deadlineMs: EXIT_DEADLINE_MS });

describe('a worker process', () => {
  it('that uses gotAuth and authFetch (a 401 retry included) exits by itself when its work is done, without close()', async () => {
    // 60 s tokens: a ref'd renewal timer would hold the child ~45 s, past the deadline; the
    // emulator keeps idle connections 5 s, which a ref'd keep-alive socket would wait out.
    const emulator = await startEmulator({ expiresIn: 60 });
    try {
      emulator.setApiFault('401', { count: 1 });
      const result = await runChild({
        EMULATOR_URL: emulator.url,
        TOKEN_URL: emulator.tokenUrl,
        CLIENT_ID: emulator.clientId,
        CLIENT_SECRET: emulator.clientSecret,
      });

      expect(result.stderr).toBe('');
      expect(result).toMatchObject({ killed: false, code: 0, signal: null });
      expect(result.exitAfterOutputMs).toBeLessThan(3_000);
      const report = JSON.parse(result.stdout) as { statuses: number[]; stats: Record<string, unknown> };
      expect(report.statuses).toEqual([200, 200, 200, 200, 200, 200]);
      // Renewals were scheduled: the exit is not for lack of timers.
      expect(report.stats).toMatchObject({ cached: 3, inFlight: 0 });
      expect(report.stats.scheduled).toBeGreaterThanOrEqual(1);
      expect(emulator.stats().api.unauthorized.forced).toBe(1);
      expect(emulator.stats().tokenCalls).toMatchObject({ total: 4, byGrant: { client_credentials: 3, refresh_token: 1 } });
    } finally {
      await emulator.close();
    }
  });
});

describe('the handle check', () => {
  it('sees a server and a timer left open, and their closing', async () => {
    const baseline = activeResources();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const timer = setTimeout(() => {}, 60_000);
    expect(resourcesAbove(baseline)).toMatchObject({ TCPServerWrap: 1, Timeout: 1 });
    clearTimeout(timer);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await expectNoResourcesAbove(baseline);
  });
});

describe('close() during an in-flight storm', () => {
  it('rejects every waiter (getToken, got, fetch) with TokenManagerClosedError at once, sends nothing more, and leaves no handle', async () => {
    const baseline = activeResources();
    const LATENCY_MS = 5_000;
    const CONCURRENCY = 8;
    const emulator = await startEmulator({ latency: LATENCY_MS });
    const manager = new TokenManager({
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
      tokenUrl: emulator.tokenUrl,
      request: { retry: 0 },
      concurrency: CONCURRENCY,
    });
    try {
      const client = got.extend(gotAuth(manager), { retry: { limit: 0 } });
      const fetchAs = authFetch(manager, { scope: (request) => new URL(request.url).pathname.split('/')[2] });
      const scopes = Array.from({ length: 200 }, (_, i) => `storm-${i}`);
      const direct = scopes.flatMap((scope) => [manager.getToken(scope), manager.getToken(scope)]);
      const viaGot = scopes.slice(0, 20).map((user) => client.get(`${emulator.url}/users/${user}/x`, { context: { scope: user } }));
      const viaFetch = scopes.slice(20, 40).map((user) => fetchAs(`${emulator.url}/users/${user}/x`));
      const all = [...direct, ...viaGot, ...viaFetch].map((call) => settle(call as Promise<unknown>, 10_000));

      // The first `concurrency` token requests are held by the emulator; the rest are queued.
      await waitUntil(() => emulator.stats().concurrentTokenCalls === CONCURRENCY, { what: 'the held token requests' });
      const started = performance.now();
      await within(3_000, manager.close(), 'close()');
      const outcomes = await within(3_000, Promise.all(all), 'the waiters');
      // Running requests were aborted, not waited for.
      expect(performance.now() - started).toBeLessThan(LATENCY_MS / 2);

      for (const outcome of outcomes) expect(outcome.ok).toBe(false);
      const errors = outcomes.map((outcome) => (outcome.ok ? undefined : outcome.error));
      for (const error of errors.slice(0, direct.length)) expect(error).toBeInstanceOf(TokenManagerClosedError);
      for (const error of errors.slice(direct.length, direct.length + viaGot.length)) {
        expect(error).toBeInstanceOf(RequestError);
        expect(error).toMatchObject({ code: 'FLUX_MANAGER_CLOSED' });
      }
      for (const error of errors.slice(direct.length + viaGot.length)) expect(error).toBeInstanceOf(TokenManagerClosedError);

      // Queued requests were never sent, and no API request went out without a token.
      expect(emulator.stats().tokenCalls.total).toBe(CONCURRENCY);
      expect(emulator.stats().api.total).toBe(0);
      await waitUntil(() => emulator.stats().concurrentTokenCalls === 0, { what: 'the aborted requests to end' });
      expect(manager.stats()).toMatchObject({ inFlight: 0, scheduled: 0, cached: 0 });
      await expect(rejectionOf(manager.getToken('storm-0'))).resolves.toBeInstanceOf(TokenManagerClosedError);
    } finally {
      await within(5_000, manager.close());
      await within(5_000, emulator.close());
    }
    await expectNoResourcesAbove(baseline);
  });

  it('a manager that served traffic through both adapters, then closed with the emulator, leaves no socket, server or timer', async () => {
    const baseline = activeResources();
    const emulator = await startEmulator({ expiresIn: 2 });
    const manager = new TokenManager({ clientId: emulator.clientId, clientSecret: emulator.clientSecret, tokenUrl: emulator.tokenUrl });
    try {
      const client = got.extend(gotAuth(manager));
      for (const user of ['a', 'b', 'c']) {
        expect((await within(5_000, client.get(`${emulator.url}/users/${user}/x`, { context: { scope: user } }))).statusCode).toBe(200);
        const response = await within(5_000, authFetch(manager, { scope: user })(`${emulator.url}/users/${user}/y`));
        await within(5_000, response.arrayBuffer());
        expect(response.status).toBe(200);
      }
      // Renewals are scheduled (and so is a timer): close() must take them all away.
      expect(manager.stats().scheduled).toBe(3);
    } finally {
      await within(5_000, manager.close());
      await within(5_000, emulator.close());
    }
    expect(manager.stats()).toMatchObject({ scheduled: 0, inFlight: 0 });
    await expectNoResourcesAbove(baseline);
  });
});
