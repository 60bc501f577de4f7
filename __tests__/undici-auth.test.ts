/**
 * What undiciAuth does beyond the shared contract (adapter-contract.test.ts): undici's fetch and
 * Node's global fetch over the composed dispatcher, a stream body that cannot be replayed, and
 * option checks.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Agent, Pool, fetch as undiciFetch, interceptors, request, type Dispatcher } from 'undici';
import { undiciAuth, type TokenSource } from '../lib/http/undici.js';
import { ConfigurationError, ForeignOriginError } from '../lib/shared/errors.js';
import { MAX_HELD_401_BYTES } from '../lib/http/undici-handler.js';
import { authFetch } from '../lib/http/fetch.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { startApiServer, type ApiServer } from './helpers/api-server.js';
import { tsNodeArgs } from './helpers/tsx-child.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./helpers/global-fetch-child.ts', import.meta.url));

let emulator: Emulator;
let api: ApiServer;
let manager: TokenManager;
let agent: Agent;

// One emulator for the file (its RSA key takes a quarter of a second of CPU to make): each test
// starts from zeroed counters, no fault, and a manager of its own, so no token carries over.
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator.close());

beforeEach(async () => {
  emulator.resetStats();
  emulator.setFault('none');
  emulator.setApiFault('none');
  api = await startApiServer();
  manager = new TokenManager({ clientId: emulator.clientId, clientSecret: emulator.clientSecret, tokenUrl: emulator.tokenUrl, request: { retry: 0 } });
  agent = new Agent();
});

afterEach(async () => {
  await manager.close();
  await agent.close();
  await api.close();
});

const tokenOf = (authorization: string | undefined) => /^Bearer (.+)$/.exec(authorization ?? '')?.[1];

describe('undiciAuth', () => {
  it("undici's fetch over the composed dispatcher: a 401 to a request without a body is retried once", async () => {
    const dispatcher = agent.compose(undiciAuth(manager, { scope: 'user-1', allowedOrigins: [api.url] }));
    api.failNext(1);
    const response = await undiciFetch(`${api.url}/public/x`, { dispatcher });

    expect(response.status).toBe(200);
    expect(api.requests.map((r) => r.status)).toEqual([401, 200]);
    expect(tokenOf(api.requests[1]!.authorization)).not.toBe(tokenOf(api.requests[0]!.authorization));
    expect(emulator.stats().tokenCalls.byGrant).toEqual({ client_credentials: 1, refresh_token: 1 });
  });

  it('fetch hands the dispatcher every body as a stream: a 401 to a request with a body goes back at once', async () => {
    const dispatcher = agent.compose(undiciAuth(manager, { scope: 'user-1', allowedOrigins: [api.url] }));
    api.failNext(1);
    const response = await undiciFetch(`${api.url}/public/x`, { dispatcher, method: 'POST', body: 'amount=1250' });

    expect(response.status).toBe(401);
    expect(api.requests.map((r) => [r.status, r.body])).toEqual([[401, 'amount=1250']]);
    // The refused token was invalidated: the next request gets a fresh one.
    expect((await undiciFetch(`${api.url}/public/x`, { dispatcher })).status).toBe(200);
    expect(tokenOf(api.requests[1]!.authorization)).not.toBe(tokenOf(api.requests[0]!.authorization));
  });

  it('fetch over the dispatcher follows a redirect to a foreign origin without a token', async () => {
    const foreign = await startApiServer();
    try {
      const dispatcher = agent.compose(undiciAuth(manager, { scope: 'user-1', allowedOrigins: [api.url] }));
      const response = await undiciFetch(`${api.url}/redirect?to=${encodeURIComponent(`${foreign.url}/public/x`)}`, { dispatcher });
      await response.text();

      expect(response.status).toBe(200);
      expect(tokenOf(api.requests[0]!.authorization)).toBeDefined();
      expect(foreign.authorizations()).toEqual([undefined]);
    } finally {
      await foreign.close();
    }
  });

  it("Node's global fetch through setGlobalDispatcher sends the user's token, and retries a 401 once", async () => {
    emulator.setApiFault('401', { count: 1 });
    const { NODE_OPTIONS: _jestOnly, ...inherited } = process.env;
    const { stdout } = await run(process.execPath, tsNodeArgs(CHILD), {
      cwd: ROOT,
      timeout: 15_000,
      env: { ...inherited, EMULATOR_URL: emulator.url, TOKEN_URL: emulator.tokenUrl, CLIENT_ID: emulator.clientId, CLIENT_SECRET: emulator.clientSecret },
    });

    expect(JSON.parse(stdout)).toEqual({ status: 200, body: expect.objectContaining({ user: 'user-2' }) });
    expect(emulator.stats().api.byStatus).toEqual({ 401: 1, 200: 1 });
    expect(emulator.stats().tokenCalls.byGrant).toEqual({ client_credentials: 1, refresh_token: 1 });
  });

  it('a stream body is not replayed: its 401 goes back, and the next request gets a fresh token', async () => {
    const dispatcher = agent.compose(undiciAuth(manager, { scope: 'user-1', allowedOrigins: [api.url] }));
    api.failNext(1);
    const refused = await request(`${api.url}/public/upload`, { dispatcher, method: 'POST', body: Readable.from(['chunk-1,', 'chunk-2']) });
    await refused.body.text();

    expect(refused.statusCode).toBe(401);
    expect(api.requests.map((r) => [r.status, r.body])).toEqual([[401, 'chunk-1,chunk-2']]);
    expect(emulator.stats().tokenCalls.total).toBe(1);

    const next = await request(`${api.url}/public/x`, { dispatcher });
    await next.body.text();
    expect(next.statusCode).toBe(200);
    expect(tokenOf(api.requests[1]!.authorization)).not.toBe(tokenOf(api.requests[0]!.authorization));
    expect(emulator.stats().tokenCalls.total).toBe(2);
  });

  it('a 401 with a body too large to hold back goes back whole, without a retry, and the token is invalidated', async () => {
    const big = 'x'.repeat(MAX_HELD_401_BYTES * 2);
    let answered = 0;
    const seen: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(answered++ === 0 ? 401 : 200, { 'content-type': 'text/plain' });
      res.end(answered === 1 ? big : 'ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const dispatcher = agent.compose(undiciAuth(manager, { scope: 'user-1', allowedOrigins: [origin] }));
      const refused = await request(`${origin}/x`, { dispatcher });
      expect(refused.statusCode).toBe(401);
      expect((await refused.body.text()).length).toBe(big.length);
      expect(seen).toHaveLength(1);

      const next = await request(`${origin}/x`, { dispatcher });
      expect(await next.body.text()).toBe('ok');
      expect(seen).toHaveLength(2);
      expect(seen[1]).not.toBe(seen[0]);
      expect(emulator.stats().tokenCalls.byGrant).toEqual({ client_credentials: 1, refresh_token: 1 });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('an abort while the token is fetched fails the request, and nothing is sent', async () => {
    emulator.setFault('hang', { count: 1 });
    const dispatcher = agent.compose(undiciAuth(manager, { scope: 'user-1', allowedOrigins: [api.url] }));
    const controller = new AbortController();
    // The token request is under way (and will hang) once the manager reports its start.
    const started = new Promise<void>((resolve) => manager.once('requestStart', () => resolve()));
    const pending = request(`${api.url}/public/x`, { dispatcher, signal: controller.signal }).catch((e: unknown) => e);
    await started;
    controller.abort();

    expect(await pending).toMatchObject({ name: 'AbortError' });
    expect(api.requests).toHaveLength(0);
  });

  it('keeps every value of a repeated request header, in a flat array or an iterable', async () => {
    const dispatcher = agent.compose(undiciAuth(manager, { scope: 'user-1', allowedOrigins: [api.url] }));
    function* pairs(): Generator<[string, string]> {
      yield ['x-a', '1'];
      yield ['x-a', '2'];
    }
    for (const headers of [['x-a', '1', 'x-a', '2'], pairs()]) {
      const response = await request(`${api.url}/public/x`, { dispatcher, headers });
      await response.body.text();
    }

    expect(api.requests.map((r) => r.headers['x-a'])).toEqual(['1, 2', '1, 2']);
    expect(api.requests.every((r) => tokenOf(r.authorization) !== undefined)).toBe(true);
  });

  it('a request through a Pool without `origin` is refused with a typed error and nothing is sent; with `origin` it carries the token', async () => {
    const pool = new Pool(api.url);
    try {
      const dispatcher = pool.compose(undiciAuth(manager, { scope: 'user-1', allowedOrigins: [api.url] }));
      const refused = await dispatcher.request({ path: '/public/x', method: 'GET' }).catch((e: unknown) => e);

      expect(refused).toBeInstanceOf(ConfigurationError);
      expect(refused).toMatchObject({ code: 'FLUX_CONFIG_INVALID', option: 'origin' });
      expect(api.requests).toHaveLength(0);
      expect(emulator.stats().tokenCalls.total).toBe(0);

      const sent = await dispatcher.request({ origin: api.url, path: '/public/x', method: 'GET' });
      await sent.body.text();
      expect(sent.statusCode).toBe(200);
      expect(tokenOf(api.requests[0]!.authorization)).toBeDefined();
    } finally {
      await pool.close();
    }
  });

  it("fetch with onForeignOrigin: 'throw': a redirect to a foreign origin fails the request (fetch dispatches each hop as a new request), and the foreign origin gets nothing", async () => {
    const foreign = await startApiServer();
    try {
      const dispatcher = agent.compose(undiciAuth(manager, { scope: 'user-1', allowedOrigins: [api.url], onForeignOrigin: 'throw' }));
      const error = await undiciFetch(`${api.url}/redirect?to=${encodeURIComponent(`${foreign.url}/public/x`)}`, { dispatcher }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(TypeError);
      expect((error as TypeError).cause).toBeInstanceOf(ForeignOriginError);
      expect(api.requests.map((r) => r.status)).toEqual([302]);
      expect(foreign.requests).toHaveLength(0);
    } finally {
      await foreign.close();
    }
  });

  /** `manager` behind a wrapper that counts its calls; without `cachedToken` when `withCache` is false. */
  function countedSource(withCache: boolean): { source: TokenSource; calls: { getToken: number; cachedToken: number } } {
    const calls = { getToken: 0, cachedToken: 0 };
    const source: TokenSource = {
      tokenUrl: manager.tokenUrl,
      invalidate: (scope, rejected) => manager.invalidate(scope, rejected),
      getToken: (scope, options) => {
        calls.getToken++;
        return manager.getToken(scope, options);
      },
      ...(withCache
        ? {
            cachedToken: (scope?: string) => {
              calls.cachedToken++;
              return manager.cachedToken(scope);
            },
          }
        : {}),
    };
    return { source, calls };
  }

  it.each([
    ['with cachedToken, a cached token is sent without getToken', true, { getToken: 1, cachedToken: 4 }],
    ['without cachedToken (a source of its own), every request waits for getToken', false, { getToken: 4, cachedToken: 0 }],
  ])('%s', async (_, withCache, expected) => {
    const { source, calls } = countedSource(withCache);
    const dispatcher = agent.compose(undiciAuth(source, { scope: 'user-1', allowedOrigins: [api.url] }));
    for (let i = 0; i < 4; i++) {
      const response = await request(`${api.url}/public/x`, { dispatcher });
      await response.body.text();
      expect(response.statusCode).toBe(200);
    }

    expect(calls).toEqual(expected);
    const sent = api.requests.map((r) => tokenOf(r.authorization));
    expect(sent).toHaveLength(4);
    expect(new Set(sent)).toEqual(new Set([(await manager.getToken('user-1')).accessToken]));
    expect(emulator.stats().tokenCalls.total).toBe(1);
  });

  it('a 401 to a request sent with a cached token is retried once with a fresh one', async () => {
    const { source, calls } = countedSource(true);
    const dispatcher = agent.compose(undiciAuth(source, { scope: 'user-1', allowedOrigins: [api.url] }));
    await (await request(`${api.url}/public/x`, { dispatcher })).body.text();
    api.failNext(1);
    const response = await request(`${api.url}/public/x`, { dispatcher });
    await response.body.text();

    expect(response.statusCode).toBe(200);
    expect(api.requests.map((r) => r.status)).toEqual([200, 401, 200]);
    expect(tokenOf(api.requests[1]!.authorization)).toBe(tokenOf(api.requests[0]!.authorization));
    expect(tokenOf(api.requests[2]!.authorization)).not.toBe(tokenOf(api.requests[1]!.authorization));
    expect(calls).toEqual({ getToken: 2, cachedToken: 2 });
    expect(emulator.stats().tokenCalls.byGrant).toEqual({ client_credentials: 1, refresh_token: 1 });
  });

  it("an interceptor composed after undiciAuth (undici's retry, which has only the newer handler API) gets the response, headers and body, after a held 401 too", async () => {
    const dispatcher = agent.compose(undiciAuth(manager, { scope: 'user-1', allowedOrigins: [api.url] }), interceptors.retry({ maxRetries: 0 }));
    for (const fail of [0, 1]) {
      api.failNext(fail);
      const response = await request(`${api.url}/public/x`, { dispatcher });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('application/json');
      expect(await response.body.json()).toEqual(expect.any(Object));
    }

    expect(api.requests.map((r) => r.status)).toEqual([200, 401, 200]);
    expect(api.requests.every((r) => tokenOf(r.authorization) !== undefined)).toBe(true);
  });

  it('validates its options when called, naming the option', () => {
    const invalid: [unknown, unknown, string][] = [
      [{}, undefined, 'manager'],
      [{ getToken: () => undefined, invalidate: () => false, tokenUrl: manager.tokenUrl, cachedToken: 'yes' }, undefined, 'manager'],
      [manager, { scope: 42 }, 'scope'],
      [manager, { allowedOrigins: ['https://api.example.com/v1'] }, 'allowedOrigins[0]'],
      [manager, { onForeignOrigin: 'drop' }, 'onForeignOrigin'],
      [manager, { fetch }, 'fetch'],
    ];
    for (const [m, options, option] of invalid) {
      let thrown: unknown;
      try {
        undiciAuth(m as TokenManager, options as never);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({ code: 'FLUX_CONFIG_INVALID', option });
    }
  });
});

describe("authFetch's fetch option", () => {
  it("accepts undici 7's fetch, typed as it is", async () => {
    const dispatcher: Dispatcher = agent;
    const viaUndici = authFetch(manager, { scope: 'user-3', fetch: undiciFetch });
    const response = await viaUndici(`${emulator.url}/users/user-3/receipts`, { dispatcher } as RequestInit);
    expect(response.status).toBe(200);
    expect(emulator.stats().tokenCalls.byScope).toEqual({ 'user-3': 1 });
  });
});
