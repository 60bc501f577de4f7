/**
 * What axiosAuth does beyond the shared contract (adapter-contract.test.ts): removing its
 * interceptors, axios's rejected 401 with no token in the error (inspected or serialized), its own
 * guard against a redirect that leaves the origin, a retry that does not wait behind an unread
 * 401 stream, and option checks; plus the
 * documented one-liners for axios's fetch adapter and for ky, over authFetch.
 */
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import axios, { AxiosError } from 'axios';
import ky from 'ky';
import { axiosAuth } from '../lib/http/axios.js';
import { authFetch } from '../lib/http/fetch.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { startApiServer, type ApiServer } from './helpers/api-server.js';
import { runTsxChild } from './helpers/tsx-child.js';
import { testSigningKey } from './helpers/signing-key.js';

const STREAM_401_CHILD = fileURLToPath(new URL('./helpers/axios-stream-401-child.ts', import.meta.url));
/** The child is killed, and its test fails, if the retry has not completed by then. */
const STREAM_401_DEADLINE_MS = 15_000;

let emulator: Emulator;
let api: ApiServer;
let manager: TokenManager;

beforeEach(async () => {
  emulator = await startEmulator({ signingKey: testSigningKey() });
  api = await startApiServer();
  manager = new TokenManager({ clientId: emulator.clientId, clientSecret: emulator.clientSecret, tokenUrl: emulator.tokenUrl, request: { retry: 0 } });
});

afterEach(async () => {
  await manager.close();
  await Promise.all([emulator.close(), api.close()]);
});

const tokenOf = (authorization: string | undefined) => /^Bearer (.+)$/.exec(authorization ?? '')?.[1];

describe('axiosAuth', () => {
  it('returns a function that removes its interceptors: later requests carry no token', async () => {
    const instance = axios.create({ baseURL: emulator.url, validateStatus: () => true });
    const remove = axiosAuth(instance, manager);
    expect((await instance.get('/users/user-1/receipts', { scope: 'user-1' })).status).toBe(200);
    remove();
    expect((await instance.get('/users/user-1/receipts', { scope: 'user-1' })).status).toBe(401);
    expect(emulator.stats().api.unauthorized.missing).toBe(1);
    expect(emulator.stats().tokenCalls.total).toBe(1);
  });

  it("checks the origin a request really goes to: baseURL for a relative url, the url's own when absolute", async () => {
    const instance = axios.create({ baseURL: emulator.url, validateStatus: () => true });
    axiosAuth(instance, manager);
    expect((await instance.get('users/user-1/receipts', { scope: 'user-1' })).status).toBe(200);
    await instance.get(`${api.url}/public/x`, { scope: 'user-1' });

    expect(api.authorizations()).toEqual([undefined]);
    expect(emulator.stats().api.byStatus).toEqual({ 200: 1 });
    expect(emulator.stats().tokenCalls.total).toBe(1);
  });

  it("a second 401 rejects with axios's error, whose message, config and JSON hold no token", async () => {
    const instance = axios.create();
    axiosAuth(instance, manager, { allowedOrigins: [api.url] });
    api.failNext(2);
    const error = await instance.get(`${api.url}/public/x`, { scope: 'user-1' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AxiosError);
    expect((error as AxiosError).response?.status).toBe(401);
    expect(api.requests).toHaveLength(2);
    expect((error as AxiosError).config?.headers.get('authorization')).toBe('Bearer [redacted]');
    // Node's ClientRequest, which keeps the request head as sent, is still there, but not enumerable.
    expect((error as AxiosError).request).toBeDefined();
    const printed = [
      (error as Error).message,
      (error as Error).stack ?? '',
      JSON.stringify(error),
      inspect(error, { depth: 6 }),
      inspect((error as AxiosError).response, { depth: 6 }),
      inspect((error as AxiosError).config),
    ];
    for (const r of api.requests) for (const form of printed) expect(form).not.toContain(tokenOf(r.authorization)!);

    // The config of the failed request can be sent again: a fresh token replaces the redacted one.
    api.failNext(0);
    const again = await instance.request((error as AxiosError).config!);
    expect(again.status).toBe(200);
    expect(api.requests.at(-1)!.authorization).not.toContain('[redacted]');
  });

  it("a redirect to another origin (127.0.0.1 to localhost) drops the token in the adapter's own guard, and the caller's beforeRedirect still runs", async () => {
    const redirects: string[] = [];
    const instance = axios.create({ validateStatus: () => true, beforeRedirect: (options) => void redirects.push(String(options.href)) });
    axiosAuth(instance, manager, { allowedOrigins: [api.url] });
    const port = new URL(api.url).port;
    const landing = `http://localhost:${port}/public/landed`;
    const answer = await instance.get(`${api.url}/redirect?to=${encodeURIComponent(landing)}`, { scope: 'user-1' });

    expect(answer.status).toBe(200);
    expect(api.requests.map((r) => [r.path, r.status, tokenOf(r.authorization) !== undefined])).toEqual([
      [`/redirect?to=${encodeURIComponent(landing)}`, 302, true],
      ['/public/landed', 200, false],
    ]);
    expect(redirects).toEqual([landing]);
  });

  it("a retry after a 401 does not wait behind the 401's unread stream (responseType: 'stream', one keep-alive socket)", async () => {
    const result = await runTsxChild(STREAM_401_CHILD, { deadlineMs: STREAM_401_DEADLINE_MS });

    expect(result).toMatchObject({ killed: false, code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual({
      status: 200,
      body: 'ok',
      answered: 2,
      connections: 2, // the 401's socket was released by destroying its stream
      tokenCalls: { client_credentials: 1, refresh_token: 1 },
    });
  });

  it('validates its arguments when called, naming the option', () => {
    const invalid: [unknown, unknown, unknown, string][] = [
      [{}, manager, undefined, 'instance'],
      [axios.create(), {}, undefined, 'manager'],
      [axios.create(), manager, { scope: 42 }, 'scope'],
      [axios.create(), manager, { scope: '' }, 'scope'],
      [axios.create(), manager, { allowedOrigins: ['http://api.example.com'] }, 'allowedOrigins[0]'],
      [axios.create(), manager, { retry: 1 }, 'retry'],
    ];
    for (const [instance, m, options, option] of invalid) {
      let thrown: unknown;
      try {
        axiosAuth(instance as never, m as TokenManager, options as never);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({ code: 'FLUX_CONFIG_INVALID', option });
    }
  });
});

describe('one-liners over authFetch', () => {
  it("axios's fetch adapter: env.fetch is authFetch", async () => {
    const flux = axios.create({ baseURL: emulator.url, adapter: 'fetch', env: { fetch: authFetch(manager, { scope: 'user-1' }) } });
    emulator.setApiFault('401', { count: 1 });
    const response = await flux.get<{ user: string }>('/users/user-1/receipts');

    expect(response.data.user).toBe('user-1');
    expect(emulator.stats().api.byStatus).toEqual({ 401: 1, 200: 1 });
    expect(emulator.stats().tokenCalls.byGrant).toEqual({ client_credentials: 1, refresh_token: 1 });
  });

  it("ky: its fetch option is authFetch", async () => {
    const flux = ky.create({ prefixUrl: emulator.url, retry: 0, fetch: authFetch(manager, { scope: 'user-2' }) });
    emulator.setApiFault('401', { count: 1 });
    const body = await flux.get('users/user-2/receipts').json<{ user: string }>();

    expect(body.user).toBe('user-2');
    expect(emulator.stats().api.byStatus).toEqual({ 401: 1, 200: 1 });
    expect(emulator.stats().tokenCalls.byGrant).toEqual({ client_credentials: 1, refresh_token: 1 });
  });
});
