/**
 * gotAuth against real local servers: a token endpoint that issues scope-encoded tokens, and an API
 * that checks the token-to-user binding on /users/:id/... and counts what it sees. The rules every
 * adapter shares (users, the 401 retry, origins, redirects, no request without a user) are in the
 * shared contract (adapter-contract.test.ts); this file holds what is particular to gotAuth.
 */
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import got, { HTTPError, RequestError, type Got, type Response } from 'got';
import { ConfigurationError, ForeignOriginError, MissingScopeError } from '../lib/shared/errors.js';
import { gotAuth } from '../lib/http/got.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import { startApiServer, type ApiServer } from './helpers/api-server.js';
import { scopeOfTestToken, startTokenServer, type TokenServer } from './helpers/scripted-token-server.js';

let tokens: TokenServer;
let api: ApiServer;
let other: ApiServer;
let manager: TokenManager;
/** gotAuth with the API's origin allowed, on a plain got instance. */
let client: Got;

beforeEach(async () => {
  tokens = await startTokenServer();
  api = await startApiServer();
  other = await startApiServer();
  manager = new TokenManager({ clientId: 'client-1', clientSecret: 'secret-1', tokenUrl: tokens.tokenUrl, request: { retry: 0 } });
  client = got.extend(gotAuth(manager, { allowedOrigins: [api.url] }), { prefixUrl: api.url, retry: { limit: 0 } });
});

/** Clean-ups registered by a test, run after it. */
const afterThis: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  await Promise.all(afterThis.splice(0).map((f) => f()));
  await manager.close();
  await Promise.all([tokens.close(), api.close(), other.close()]);
});

const tokenOf = (authorization: string | undefined) => /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
const userOf = (authorization: string | undefined) => scopeOfTestToken(tokenOf(authorization)!);

/** Sends one request as `user` and returns the token it carried (it must succeed). */
async function prime(user: string): Promise<string> {
  await client.get(`users/${user}/profile`, { context: { scope: user } }).json();
  return tokenOf(api.requests.at(-1)!.authorization)!;
}

describe('header injection and scope', () => {
  it('sends the Bearer token of context.scope, and reuses it from the cache', async () => {
    const body = await client.get('users/alice/receipts', { context: { scope: 'alice' } }).json<{ user: string }>();
    await client.get('users/alice/receipts', { context: { scope: 'alice' } }).json();

    expect(body.user).toBe('alice');
    expect(api.requests.map((r) => [r.status, userOf(r.authorization)])).toEqual([
      [200, 'alice'],
      [200, 'alice'],
    ]);
    expect(tokens.requests).toHaveLength(1);
    expect(tokens.callsFor('alice')).toBe(1);
  });

  it('takes the scope from the option: a fixed user id', async () => {
    const asBob = got.extend(gotAuth(manager, { scope: 'bob', allowedOrigins: [api.url] }), { prefixUrl: api.url });
    expect(await asBob.get('users/bob/receipts').json()).toMatchObject({ user: 'bob' });
    expect(userOf(api.requests[0]!.authorization)).toBe('bob');
  });

  it('takes the scope from the option: a function of the normalized options', async () => {
    const byPath = got.extend(
      gotAuth(manager, {
        allowedOrigins: [api.url],
        scope: (options) => /^\/users\/([^/]+)\//.exec(options.url?.pathname ?? '')?.[1] ?? null,
      }),
      { prefixUrl: api.url },
    );
    await byPath.get('users/alice/x').json();
    await byPath.get('users/bob/x').json();
    await byPath.get('public/x').json();

    expect(api.requests.map((r) => userOf(r.authorization))).toEqual(['alice', 'bob', undefined]);
    expect(tokens.requests.map((r) => r.scope)).toEqual(['alice', 'bob', undefined]);
  });

  it('context.scope takes precedence over the scope option', async () => {
    const asBob = got.extend(gotAuth(manager, { scope: 'bob', allowedOrigins: [api.url] }), { prefixUrl: api.url });
    await asBob.get('users/carol/x', { context: { scope: 'carol' } }).json();
    expect(userOf(api.requests[0]!.authorization)).toBe('carol');
    expect(tokens.requests.map((r) => r.scope)).toEqual(['carol']);
  });

  it('context.scope: null sends the client-wide token', async () => {
    await client.get('public/x', { context: { scope: null } }).json();
    expect(userOf(api.requests[0]!.authorization)).toBeUndefined();
    expect(tokens.requests).toEqual([expect.objectContaining({ grant: 'client_credentials', scope: undefined })]);
  });

  it('a typo in context (`scop`) fails with MissingScopeError before anything is sent', async () => {
    const error = await client.get('users/user-42/x', { context: { scop: 'user-42' } }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RequestError);
    expect((error as RequestError).code).toBe('FLUX_MISSING_SCOPE');
    expect((error as RequestError).cause).toBeInstanceOf(MissingScopeError);
    expect(api.requests).toHaveLength(0);
    expect(tokens.requests).toHaveLength(0);
  });

});

describe('the 401 policy', () => {
  it('a second 401 goes back to the caller after exactly two API calls, with no token in the message', async () => {
    api.failNext(5);
    const error = await client.get('users/alice/x', { context: { scope: 'alice' } }).json().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(HTTPError);
    expect((error as HTTPError).response.statusCode).toBe(401);
    expect(api.requests).toHaveLength(2);
    expect(tokens.requests).toHaveLength(2);
    // Neither the message nor the error object (which holds got's request options) shows a token.
    expect((error as HTTPError).options.headers.authorization).toBe('Bearer [redacted]');
    // Exactly what docs/http-clients.md promises: message, stack, JSON and inspect at any depth
    // (showHidden, which reaches Node's ClientRequest, is documented as the exception).
    const printed = [(error as Error).message, (error as Error).stack ?? '', JSON.stringify(error), inspect(error, { depth: Infinity })];
    for (const r of api.requests) {
      for (const form of printed) expect(form).not.toContain(tokenOf(r.authorization)!);
    }

    // The token that replaced the first rejected one was rejected too: a 401 loop. The scope waits
    // out its cool-down, and meanwhile a 401 comes back at once, without a resend with the refused
    // token (here with throwHttpErrors: false, as the response itself).
    const response = await client.get('users/alice/x', { context: { scope: 'alice' }, throwHttpErrors: false });
    expect(response.statusCode).toBe(401);
    expect(api.requests).toHaveLength(3);
    expect(tokens.requests).toHaveLength(2);
  });

  it("the options of a failed request can be sent again: the redacted header is replaced by a token", async () => {
    api.failNext(2);
    const error = (await client.get('users/alice/x', { context: { scope: 'alice' } }).catch((e: unknown) => e)) as HTTPError;
    expect(error.options.headers.authorization).toBe('Bearer [redacted]');

    const again = (await got(undefined, undefined, error.options)) as Response;
    expect(again.statusCode).toBe(200);
    expect(api.requests.at(-1)!.authorization).not.toContain('[redacted]');
    expect(userOf(api.requests.at(-1)!.authorization)).toBe('alice');
  });

  it('a concurrent 401 storm on one scope causes one token refresh, not one per request', async () => {
    const first = await prime('alice');
    api.revoke(first);
    tokens.hold();
    const n = 20;
    const storm = Promise.all(
      Array.from({ length: n }, (_, i) => client.get(`users/alice/item-${i}`, { context: { scope: 'alice' } }).json<{ user: string }>()),
    );
    await api.waitForRequests(1 + n); // every request got its 401
    await tokens.waitForRequests(2); // the one renewal is in flight
    tokens.release();
    const bodies = await storm;

    expect(bodies.every((b) => b.user === 'alice')).toBe(true);
    expect(tokens.requests).toHaveLength(2);
    const retries = api.requests.slice(1 + n);
    expect(retries).toHaveLength(n);
    expect(new Set(retries.map((r) => r.authorization)).size).toBe(1);
    expect(retries.every((r) => r.status === 200 && tokenOf(r.authorization) !== first)).toBe(true);
  });

  it.each([
    ['503 then 401', [503, 401]],
    ['401 then 503', [401, 503]],
  ])("works with got's own retry (%s): one refresh, three API calls", async (_, statuses) => {
    const retrying = got.extend(gotAuth(manager, { allowedOrigins: [api.url] }), {
      prefixUrl: api.url,
      retry: { limit: 2, backoffLimit: 1, noise: 0 },
    });
    for (const status of statuses) api.failNext(1, status);

    expect(await retrying.get('users/alice/x', { context: { scope: 'alice' } }).json()).toMatchObject({ user: 'alice' });
    expect(api.requests.map((r) => r.status)).toEqual([...statuses, 200]);
    expect(tokens.requests).toHaveLength(2);
  });

  it("never loops, even when got's own retry follows the retry: 401, 503, 401 ends with the last 401", async () => {
    const retrying = got.extend(gotAuth(manager, { allowedOrigins: [api.url] }), {
      prefixUrl: api.url,
      retry: { limit: 5, backoffLimit: 1, noise: 0 },
      throwHttpErrors: false,
    });
    api.failNext(1, 401);
    api.failNext(1, 503);
    api.failNext(1, 401);
    const response = await retrying.get('users/alice/x', { context: { scope: 'alice' } });
    expect(response.statusCode).toBe(401);
    expect(api.requests.map((r) => r.status)).toEqual([401, 503, 401]);
    expect(tokens.requests).toHaveLength(2);
  });
});

describe('the origin allow-list', () => {
  it("onForeignOrigin: 'throw' fails the request with ForeignOriginError before anything is sent", async () => {
    const strict = got.extend(gotAuth(manager, { allowedOrigins: [api.url], onForeignOrigin: 'throw' }));
    const error = await strict.get(`${other.url}/public/secret?key=abc`, { context: { scope: 'alice' } }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RequestError);
    expect((error as RequestError).code).toBe('FLUX_FOREIGN_ORIGIN');
    const cause = (error as RequestError).cause;
    expect(cause).toBeInstanceOf(ForeignOriginError);
    expect(cause).toMatchObject({ origin: other.url, allowedOrigins: [tokens.url, api.url] });
    expect((error as Error).message).not.toContain('key=abc');
    expect(other.requests).toHaveLength(0);
    expect(tokens.requests).toHaveLength(0);
    // Allowed origins still work in 'throw' mode.
    expect(await strict.get(`${api.url}/users/alice/x`, { context: { scope: 'alice' } }).json()).toMatchObject({ user: 'alice' });
  });

  it('validates its options when called, naming the option', () => {
    const invalid: [unknown, unknown, string][] = [
      [{}, undefined, 'manager'],
      [manager, 'alice', 'gotAuth options'],
      [manager, { scope: 42 }, 'scope'],
      [manager, { scope: '' }, 'scope'],
      [manager, { scopes: 'alice' }, 'scopes'],
      [manager, { allowedOrigins: 'https://api.example.com' }, 'allowedOrigins'],
      [manager, { allowedOrigins: ['https://api.example.com', 'api.example.com'] }, 'allowedOrigins[1]'],
      [manager, { allowedOrigins: ['https://api.example.com/v1'] }, 'allowedOrigins[0]'],
      [manager, { allowedOrigins: ['http://api.example.com'] }, 'allowedOrigins[0]'],
      [manager, { onForeignOrigin: 'drop' }, 'onForeignOrigin'],
    ];
    for (const [m, options, option] of invalid) {
      let thrown: unknown;
      try {
        gotAuth(m as TokenManager, options as never);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigurationError);
      expect(thrown).toMatchObject({ code: 'FLUX_CONFIG_INVALID', option });
    }
  });
});

describe('redirects', () => {
  it("got itself drops an explicit Authorization header on a redirect to another origin", async () => {
    await got(`${api.url}/redirect?to=${encodeURIComponent(`${other.url}/public/x`)}`, { headers: { authorization: 'Bearer mine' } }).json();
    expect(api.authorizations()).toEqual(['Bearer mine']);
    expect(other.authorizations()).toEqual([undefined]);
  });

  it('a redirect hop never gains a token, even on an allowed origin', async () => {
    const both = got.extend(gotAuth(manager, { allowedOrigins: [api.url, other.url] }), { prefixUrl: api.url });
    await both.get(`redirect?to=${encodeURIComponent(`${other.url}/public/x`)}`, { context: { scope: 'alice' } }).json();
    expect(userOf(api.requests[0]!.authorization)).toBe('alice');
    expect(other.authorizations()).toEqual([undefined]);

    // Nor does a request that started on a foreign origin and was sent back to an allowed one.
    const fromForeign = `${other.url}/redirect?to=${encodeURIComponent(`${api.url}/public/back`)}`;
    const onlyApi = got.extend(gotAuth(manager, { allowedOrigins: [api.url] }));
    await onlyApi.get(fromForeign, { context: { scope: 'alice' } }).json();
    expect(other.authorizations()).toEqual([undefined, undefined]);
    expect(api.authorizations()[1]).toBeUndefined();
  });

  it('a 401 after a same-origin redirect is retried once, on the final URL, with a fresh token', async () => {
    api.script([null, 401]);
    const body = await client.get('redirect?to=/users/alice/next', { context: { scope: 'alice' } }).json<{ path: string }>();
    expect(body.path).toBe('/users/alice/next');
    const [t1, t2] = [...new Set(api.authorizations())];
    expect(api.requests.map((r) => [r.path, r.status, r.authorization])).toEqual([
      ['/redirect?to=/users/alice/next', 302, t1],
      ['/users/alice/next', 401, t1],
      ['/users/alice/next', 200, t2],
    ]);
    expect(t2).toBeDefined();
    expect(tokens.requests).toHaveLength(2);
  });

  it('drops the token on a hop that leaves the allow-list even where got would keep it (URL rewritten after its check)', async () => {
    // got compares host and port only, before beforeRedirect hooks run; a hook (or a scheme
    // downgrade) can still move the hop elsewhere with the header in place.
    const rewriting = client.extend({
      hooks: {
        beforeRedirect: [
          (options) => {
            options.url = new URL('/public/moved', other.url);
          },
        ],
      },
    });
    await rewriting.get('redirect?to=/public/here', { context: { scope: 'alice' } }).json();
    expect(userOf(api.requests[0]!.authorization)).toBe('alice');
    expect(other.requests.map((r) => [r.path, r.authorization])).toEqual([['/public/moved', undefined]]);
  });

});

describe('pagination and streams', () => {
  it('got.paginate: every page carries the token, and a 401 on a later page is retried once', async () => {
    const items: string[] = [];
    for await (const item of client.paginate<string>('users/alice/items', { context: { scope: 'alice' } })) {
      items.push(item);
      if (items.length === 1) api.revoke(tokenOf(api.requests[0]!.authorization)!);
    }

    expect(items).toEqual(['alice-1-a', 'alice-1-b', 'alice-2-a', 'alice-2-b', 'alice-3-a', 'alice-3-b']);
    const [t1, t2] = [...new Set(api.authorizations())];
    expect(api.requests.map((r) => [r.path, r.status, r.authorization])).toEqual([
      ['/users/alice/items', 200, t1],
      ['/users/alice/items?page=2', 401, t1],
      ['/users/alice/items?page=2', 200, t2],
      ['/users/alice/items?page=3', 200, t2],
    ]);
    expect(tokens.requests).toHaveLength(2);
  });

  it('got.paginate.all with a scope function: each page gets a 401 retry of its own', async () => {
    // Without the 401-loop cool-down (page 2's 401 hits the token that replaced page 1's refused one).
    const eager = new TokenManager({ clientId: 'client-1', clientSecret: 'secret-1', tokenUrl: tokens.tokenUrl, request: { retry: 0 }, cooldown: { base: 0 } });
    afterThis.push(() => eager.close());
    const byPath = got.extend(gotAuth(eager, { allowedOrigins: [api.url], scope: (o) => o.url?.pathname.split('/')[2] }), {
      prefixUrl: api.url,
    });
    api.script([401, null, 401, null, null]);
    const all = await byPath.paginate.all<string>('users/bob/items');
    expect(all).toHaveLength(6);
    expect(api.requests.map((r) => [r.path, r.status])).toEqual([
      ['/users/bob/items', 401],
      ['/users/bob/items', 200],
      ['/users/bob/items?page=2', 401],
      ['/users/bob/items?page=2', 200],
      ['/users/bob/items?page=3', 200],
    ]);
    expect(new Set(api.requests.map((r) => userOf(r.authorization)))).toEqual(new Set(['bob']));
    expect(tokens.requests).toHaveLength(3);
  });

  it("got.paginate with a paginate function that reuses the response's options: each page still gets its own retry", async () => {
    // Returning `response.request.options` (as got allows) carries the previous page's header and
    // state into the next page; the hooks must treat it as a new request. Without the 401-loop
    // cool-down, as above.
    const eager = new TokenManager({ clientId: 'client-1', clientSecret: 'secret-1', tokenUrl: tokens.tokenUrl, request: { retry: 0 }, cooldown: { base: 0 } });
    afterThis.push(() => eager.close());
    const eagerClient = got.extend(gotAuth(eager, { allowedOrigins: [api.url] }), { prefixUrl: api.url, retry: { limit: 0 } });
    api.script([401, null, 401, null, null]);
    const all = await eagerClient.paginate.all<string>('users/alice/items', {
      context: { scope: 'alice' },
      pagination: {
        paginate: ({ response }) => {
          const next = /<([^>]+)>; rel="next"/.exec(String(response.headers.link ?? ''))?.[1];
          if (next === undefined) return false;
          const options = response.request.options;
          options.prefixUrl = '';
          options.url = new URL(next, response.url);
          return options;
        },
      },
    });
    expect(all).toHaveLength(6);
    expect(api.requests.map((r) => [r.path, r.status])).toEqual([
      ['/users/alice/items', 401],
      ['/users/alice/items', 200],
      ['/users/alice/items?page=2', 401],
      ['/users/alice/items?page=2', 200],
      ['/users/alice/items?page=3', 200],
    ]);
    expect(tokens.requests).toHaveLength(3);
    expect(userOf(api.requests[4]!.authorization)).toBe('alice');
  });

  it('got.paginate: a next page on a foreign origin gets no token, even when the options are reused', async () => {
    const pages: string[] = [];
    await client.paginate.all<string>('users/alice/items', {
      context: { scope: 'alice' },
      throwHttpErrors: false,
      pagination: {
        transform: (response) => (response.statusCode === 200 ? (JSON.parse(String(response.body)) as string[]) : []),
        paginate: ({ response }) => {
          pages.push(response.url);
          if (pages.length > 1) return false;
          const options = response.request.options;
          options.prefixUrl = '';
          options.url = new URL('/users/alice/items?page=2', other.url);
          return options;
        },
      },
    });
    expect(userOf(api.requests[0]!.authorization)).toBe('alice');
    expect(other.requests.map((r) => [r.status, r.authorization])).toEqual([[401, undefined]]);
  });

  it('streams get the token; a 401 is not retried, but the token is invalidated for the next request', async () => {
    const first = await prime('alice');
    api.revoke(first);
    const read = async () => {
      let text = '';
      for await (const chunk of client.stream('users/alice/x', { context: { scope: 'alice' } })) text += String(chunk);
      return text;
    };
    const error = await read().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HTTPError);
    expect(api.requests.map((r) => r.status)).toEqual([200, 401]);

    expect(await client.get('users/alice/x', { context: { scope: 'alice' } }).json()).toMatchObject({ user: 'alice' });
    expect(api.requests.map((r) => r.status)).toEqual([200, 401, 200]);
    expect(tokenOf(api.requests[2]!.authorization)).not.toBe(first);
    expect(tokens.requests).toHaveLength(2);

    // An unrevoked token streams fine.
    const text = await read();
    expect(JSON.parse(text)).toMatchObject({ user: 'alice' });
  });
});

describe("the user's own got instance", () => {
  it('works through a chain of extends with their own headers and hooks, which still run', async () => {
    const seenBefore: number[] = [];
    const seenAfter: number[] = [];
    const base = got.extend({
      headers: { 'x-app': 'worker' },
      hooks: {
        beforeRequest: [
          (options) => {
            options.headers['x-trace'] = 'trace-1';
          },
        ],
        afterResponse: [
          (response) => {
            seenBefore.push(response.statusCode);
            return response;
          },
        ],
      },
      retry: { limit: 0 },
    });
    const withAuth = base.extend(gotAuth(manager, { allowedOrigins: [api.url] }));
    const mine = withAuth.extend({
      prefixUrl: api.url,
      hooks: {
        afterResponse: [
          (response) => {
            seenAfter.push(response.statusCode);
            return response;
          },
        ],
      },
    });

    const first = await (async () => {
      await mine.get('users/alice/x', { context: { scope: 'alice' } }).json();
      return tokenOf(api.requests[0]!.authorization)!;
    })();
    api.revoke(first);
    expect(await mine.post('users/alice/x', { context: { scope: 'alice' }, json: { a: 1 } }).json()).toMatchObject({
      user: 'alice',
      body: '{"a":1}',
    });

    expect(api.requests.map((r) => [r.status, r.headers['x-app'], r.headers['x-trace'], userOf(r.authorization)])).toEqual([
      [200, 'worker', 'trace-1', 'alice'],
      [401, 'worker', 'trace-1', 'alice'],
      [200, 'worker', 'trace-1', 'alice'],
    ]);
    expect(api.requests[2]!.body).toBe('{"a":1}');
    // The hook registered before gotAuth saw the 401 and the retry; the one after saw the final answers only.
    expect(seenBefore).toEqual([200, 401, 200]);
    expect(seenAfter).toEqual([200, 200]);
    expect(tokens.requests).toHaveLength(2);
  });

  it("isolation: two users' requests interleaved on one instance each carry their own user's token", async () => {
    const users = ['alice', 'bob'];
    const calls = Array.from({ length: 40 }, (_, i) => users[i % 2]!);
    const bodies = await Promise.all(
      calls.map((user, i) => client.get(`users/${user}/receipts/${i}`, { context: { scope: user } }).json<{ user: string }>()),
    );

    expect(bodies.map((b) => b.user)).toEqual(calls);
    expect(api.requests).toHaveLength(40);
    for (const r of api.requests) {
      expect(r.status).toBe(200); // the API answers 403 to a token of the other user
      expect(userOf(r.authorization)).toBe(r.path.split('/')[2]);
    }
    expect(tokens.callsFor('alice')).toBe(1);
    expect(tokens.callsFor('bob')).toBe(1);
  });
});
