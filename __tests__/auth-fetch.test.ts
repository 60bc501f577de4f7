/**
 * authFetch against real local servers: a token endpoint that issues scope-encoded tokens, and an API
 * that checks the token-to-user binding on /users/:id/... and counts what it sees. The rules every
 * adapter shares (users, the 401 retry, origins, redirects, no request without a user) are in the
 * shared contract (adapter-contract.test.ts); this file holds what is particular to authFetch.
 */
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ConfigurationError, ForeignOriginError } from '../lib/shared/errors.js';
import { authFetch, type AuthFetchOptions } from '../lib/http/fetch.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import { startApiServer, type ApiServer } from './helpers/api-server.js';
import { scopeOfTestToken, startTokenServer, type TokenServer } from './helpers/scripted-token-server.js';

let tokens: TokenServer;
let api: ApiServer;
let other: ApiServer;
let manager: TokenManager;

beforeEach(async () => {
  tokens = await startTokenServer();
  api = await startApiServer();
  other = await startApiServer();
  manager = new TokenManager({ clientId: 'client-1', clientSecret: 'secret-1', tokenUrl: tokens.tokenUrl, request: { retry: 0 } });
});

afterEach(async () => {
  await manager.close();
  await Promise.all([tokens.close(), api.close(), other.close()]);
});

const tokenOf = (authorization: string | undefined) => /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
const userOf = (authorization: string | undefined) => scopeOfTestToken(tokenOf(authorization)!);
const userInPath = (request: Request) => /^\/users\/([^/]+)\//.exec(new URL(request.url).pathname)?.[1];

describe('header injection and scope', () => {
  it('sends the Bearer token of the scope option, and reuses it from the cache', async () => {
    const fetchAsAlice = authFetch(manager, { scope: 'alice', allowedOrigins: [api.url] });
    const res = await fetchAsAlice(`${api.url}/users/alice/receipts`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ user: 'alice' });
    await (await fetchAsAlice(new URL('/users/alice/receipts', api.url))).text();

    expect(api.requests.map((r) => [r.status, userOf(r.authorization)])).toEqual([
      [200, 'alice'],
      [200, 'alice'],
    ]);
    expect(tokens.requests).toHaveLength(1);
  });

  it('takes the scope from a function of the Request; scope: null sends the client-wide token', async () => {
    const byPath = authFetch(manager, { scope: userInPath, allowedOrigins: [api.url] });
    await (await byPath(`${api.url}/users/alice/x`)).text();
    await (await byPath(new Request(`${api.url}/users/bob/x`, { method: 'DELETE' }))).text();
    await (await authFetch(manager, { scope: null, allowedOrigins: [api.url] })(`${api.url}/public/x`)).text();

    expect(api.requests.map((r) => [r.method, r.status, userOf(r.authorization)])).toEqual([
      ['GET', 200, 'alice'],
      ['DELETE', 200, 'bob'],
      ['GET', 200, undefined],
    ]);
    expect(tokens.requests.map((r) => r.scope)).toEqual(['alice', 'bob', undefined]);
  });

  it('leaves an explicit Authorization header alone (init or Request), fetches no token, and does not retry its 401', async () => {
    const fetchAsAlice = authFetch(manager, { scope: 'alice', allowedOrigins: [api.url] });
    await (await fetchAsAlice(`${api.url}/public/x`, { headers: { Authorization: 'Bearer mine' } })).text();
    const res = await fetchAsAlice(new Request(`${api.url}/users/alice/x`, { headers: { authorization: 'Bearer not-a-test-token' } }));

    expect(res.status).toBe(401);
    expect(api.authorizations()).toEqual(['Bearer mine', 'Bearer not-a-test-token']);
    expect(tokens.requests).toHaveLength(0);
  });

  it("passes init members the Request constructor drops (a custom fetch's own options) through to the given fetch", async () => {
    const calls: [RequestInfo | URL, RequestInit | undefined][] = [];
    const recording: typeof fetch = (input, init) => {
      calls.push([input, init]);
      const { tag: _tag, ...standard } = (init ?? {}) as RequestInit & { tag?: string };
      return fetch(input, standard);
    };
    const marker = { tag: 'marker' };
    const fetchAsAlice = authFetch(manager, { scope: 'alice', allowedOrigins: [api.url], fetch: recording });
    await (await fetchAsAlice(`${api.url}/users/alice/x`, { method: 'PUT', ...(marker as RequestInit) })).text();

    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toBe(`${api.url}/users/alice/x`);
    expect(calls[0]![1]).toMatchObject({ method: 'PUT', tag: 'marker' });
    expect(userOf(api.requests[0]!.authorization)).toBe('alice');
  });

  it('with a Request input, hands the given fetch a Request and only the init members it drops', async () => {
    const calls: [RequestInfo | URL, RequestInit | undefined][] = [];
    const recording: typeof fetch = (input, init) => {
      calls.push([input, init]);
      return fetch(input, init === undefined ? undefined : {});
    };
    const marker = { tag: 'marker' };
    const fetchAsAlice = authFetch(manager, { scope: 'alice', allowedOrigins: [api.url], fetch: recording });
    await (await fetchAsAlice(new Request(`${api.url}/users/alice/x`, { method: 'PUT' }), marker as RequestInit)).text();

    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toBeInstanceOf(Request);
    expect((calls[0]![0] as Request).method).toBe('PUT');
    expect(calls[0]![1]).toEqual(marker);
    expect(userOf(api.requests[0]!.authorization)).toBe('alice');
  });
});

describe('the 401 policy', () => {
  it('a concurrent 401 storm on one scope causes one token refresh, not one per request', async () => {
    const fetchAsAlice = authFetch(manager, { scope: 'alice', allowedOrigins: [api.url] });
    await (await fetchAsAlice(`${api.url}/users/alice/x`)).text();
    const first = tokenOf(api.requests[0]!.authorization)!;
    api.revoke(first);
    tokens.hold();
    const n = 20;
    const storm = Promise.all(Array.from({ length: n }, (_, i) => fetchAsAlice(`${api.url}/users/alice/item-${i}`).then((r) => r.status)));
    await api.waitForRequests(1 + n);
    await tokens.waitForRequests(2);
    tokens.release();

    expect(await storm).toEqual(Array.from({ length: n }, () => 200));
    expect(tokens.requests).toHaveLength(2);
    const retries = api.requests.slice(1 + n);
    expect(retries).toHaveLength(n);
    expect(new Set(retries.map((r) => r.authorization)).size).toBe(1);
    expect(tokenOf(retries[0]!.authorization)).not.toBe(first);
  });

  it('replays a JSON body on the retry: the server sees the same body twice', async () => {
    const fetchAsAlice = authFetch(manager, { scope: 'alice', allowedOrigins: [api.url] });
    api.failNext(1);
    const payload = JSON.stringify({ amount: 1250, currency: 'GBP', note: 'lunch ☕' });
    const res = await fetchAsAlice(`${api.url}/users/alice/receipts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: payload,
    });

    expect(res.status).toBe(200);
    expect(api.requests.map((r) => [r.method, r.status, r.headers['content-type'], r.body])).toEqual([
      ['POST', 401, 'application/json', payload],
      ['POST', 200, 'application/json', payload],
    ]);
  });

  it("replays the body of a Request passed as input (from a clone kept for the retry)", async () => {
    const fetchAsAlice = authFetch(manager, { scope: 'alice', allowedOrigins: [api.url] });
    api.failNext(1);
    const body = new URLSearchParams({ a: '1', b: 'two' });
    const res = await fetchAsAlice(new Request(`${api.url}/users/alice/forms`, { method: 'POST', body }));

    expect(res.status).toBe(200);
    expect(api.requests.map((r) => [r.status, r.body])).toEqual([
      [401, 'a=1&b=two'],
      [200, 'a=1&b=two'],
    ]);
  });

  it('does not retry a ReadableStream body: the 401 is returned, and the next request gets a fresh token', async () => {
    const fetchAsAlice = authFetch(manager, { scope: 'alice', allowedOrigins: [api.url] });
    await (await fetchAsAlice(`${api.url}/users/alice/x`)).text();
    const first = tokenOf(api.requests[0]!.authorization)!;
    api.revoke(first);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('chunk-1,'));
        controller.enqueue(new TextEncoder().encode('chunk-2'));
        controller.close();
      },
    });

    const res = await fetchAsAlice(`${api.url}/users/alice/upload`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(401);
    expect(api.requests.map((r) => [r.status, r.body])).toEqual([
      [200, ''],
      [401, 'chunk-1,chunk-2'],
    ]);
    expect(tokens.requests).toHaveLength(1);

    // The refused token was invalidated: the next request renews it instead of being refused again.
    expect((await fetchAsAlice(`${api.url}/users/alice/x`)).status).toBe(200);
    expect(api.requests.map((r) => r.status)).toEqual([200, 401, 200]);
    expect(tokenOf(api.requests[2]!.authorization)).not.toBe(first);
    expect(tokens.requests).toHaveLength(2);
  });
});

describe('the origin allow-list', () => {
  it("onForeignOrigin: 'throw' rejects with ForeignOriginError before anything is sent", async () => {
    const strict = authFetch(manager, { scope: 'alice', allowedOrigins: [api.url], onForeignOrigin: 'throw' });
    const error = await strict(`${other.url}/public/x?key=abc`).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ForeignOriginError);
    expect(error).toMatchObject({ code: 'FLUX_FOREIGN_ORIGIN', origin: other.url, allowedOrigins: [tokens.url, api.url] });
    expect((error as Error).message).not.toContain('key=abc');
    expect(other.requests).toHaveLength(0);
    expect(tokens.requests).toHaveLength(0);
    expect((await strict(`${api.url}/users/alice/x`)).status).toBe(200);
  });

  it('validates its options when called, naming the option', () => {
    const invalid: [unknown, unknown, string][] = [
      [undefined, undefined, 'manager'],
      [manager, { fetch: 'fetch' }, 'fetch'],
      [manager, { scope: 42 }, 'scope'],
      [manager, { allowedOrigins: ['https://user:pw@api.example.com'] }, 'allowedOrigins[0]'],
      [manager, { allowedOrigins: ['https://api.example.com?x=1'] }, 'allowedOrigins[0]'],
      [manager, { onForeignOrigin: 'warn' }, 'onForeignOrigin'],
      [manager, { retry: 2 }, 'retry'],
    ];
    for (const [m, options, option] of invalid) {
      expect(() => authFetch(m as TokenManager, options as never)).toThrow(ConfigurationError);
      try {
        authFetch(m as TokenManager, options as never);
      } catch (error) {
        expect(error).toMatchObject({ code: 'FLUX_CONFIG_INVALID', option });
      }
    }
  });
});

describe('a rejected allowedOrigins entry', () => {
  it.each([
    ['a path', 'https://hooks.example.com/services/T0/B0/s3cr3t', '`https://hooks.example.com` that has a path'],
    ['userinfo', 'https://user:pw-s3cr3t@hooks.example.com', '`https://hooks.example.com` that has credentials'],
    ['a query string', 'https://hooks.example.com/?key=s3cr3t', '`https://hooks.example.com` that has a query'],
    ['a fragment', 'https://hooks.example.com/#s3cr3t', '`https://hooks.example.com` that has a fragment'],
    ['a query string, unparsable', 'https//hooks.example.com?key=s3cr3t', '[redacted'],
  ])('with %s is refused, showing at most its origin and echoing nothing of the rest', (_what, origin, shown) => {
    let thrown: unknown;
    try {
      authFetch(manager, { allowedOrigins: [origin] });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'FLUX_CONFIG_INVALID', option: 'allowedOrigins[0]' });
    expect((thrown as Error).message).toContain(shown);
    for (const form of [(thrown as Error).message, (thrown as Error).stack ?? '', inspect(thrown), JSON.stringify(thrown)]) expect(form).not.toContain('s3cr3t');
  });
});

describe('redirects', () => {
});

describe('isolation', () => {
  it("two users' requests interleaved on one authFetch each carry their own user's token", async () => {
    const byPath = authFetch(manager, { scope: userInPath, allowedOrigins: [api.url] });
    const calls = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 'alice' : 'bob'));
    const bodies = await Promise.all(calls.map((user, i) => byPath(`${api.url}/users/${user}/receipts/${i}`).then((r) => r.json() as Promise<{ user: string }>)));

    expect(bodies.map((b) => b.user)).toEqual(calls);
    for (const r of api.requests) {
      expect(r.status).toBe(200);
      expect(userOf(r.authorization)).toBe(r.path.split('/')[2]);
    }
    expect(tokens.callsFor('alice')).toBe(1);
    expect(tokens.callsFor('bob')).toBe(1);
  });
});

describe('a URL object the caller changes while the token is fetched', () => {
  const scopeKinds: [string, AuthFetchOptions['scope']][] = [
    ['a fixed scope', 'alice'],
    ['a scope function', userInPath],
  ];

  /** A TokenSource that lets the caller move its URL during each getToken, as a reused loop variable would. */
  function movingSource(url: URL, to: string): typeof manager {
    return {
      tokenUrl: manager.tokenUrl,
      invalidate: (scope: string | undefined, token: Parameters<TokenManager['invalidate']>[1]) => manager.invalidate(scope, token),
      getToken: (scope?: string, options?: Parameters<TokenManager['getToken']>[1]) => {
        url.href = to;
        return manager.getToken(scope, options);
      },
    } as typeof manager;
  }

  it.each(scopeKinds)('with %s, the token goes to the URL that was checked, never to where it points afterwards', async (_, scope) => {
    const url = new URL(`${api.url}/users/alice/x`);
    const fetchAs = authFetch(movingSource(url, `${other.url}/users/alice/stolen`), { scope, allowedOrigins: [api.url] });
    const res = await fetchAs(url);

    expect(res.status).toBe(200);
    expect(api.requests.map((r) => [r.path, userOf(r.authorization)])).toEqual([['/users/alice/x', 'alice']]);
    expect(other.requests).toHaveLength(0);
  });

  it.each(scopeKinds)('with %s, the retry after a 401 goes to the URL that was checked', async (_, scope) => {
    const url = new URL(`${api.url}/users/alice/x`);
    const fetchAs = authFetch(movingSource(url, `${other.url}/users/alice/stolen`), { scope, allowedOrigins: [api.url] });
    api.failNext(1, 401);
    const res = await fetchAs(url);

    expect(res.status).toBe(200);
    expect(api.requests.map((r) => [r.status, r.path])).toEqual([
      [401, '/users/alice/x'],
      [200, '/users/alice/x'],
    ]);
    expect(other.requests).toHaveLength(0);
    expect(tokens.requests).toHaveLength(2);
  });
});
