/**
 * The behaviour every HTTP adapter (got, fetch, axios, undici) shares, as one table run per
 * adapter: users per request, one retry after a 401, no resend inside the 401-loop cool-down,
 * redirects, origins, and no request without a user. Each adapter supplies a small
 * {@link AdapterDriver} that speaks its client's own API; the assertions are the same for all.
 *
 * The servers are real and local: the emulator (token endpoint, and its per-user API on the token
 * URL's origin, which checks each token's user) and two more API origins (`second`, `third`) that
 * record the Authorization header of every request they receive.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { decodeJws } from '../../lib/endpoint/jws.js';
import { ForeignOriginError, MissingScopeError } from '../../lib/shared/errors.js';
import { TokenManager } from '../../lib/manager/token-manager.js';
import { startEmulator, type Emulator } from '../../lib/emulator/index.js';
import { startApiServer, type ApiServer } from './api-server.js';

/** The adapter options the contract uses; a scope function receives the request's URL. */
export interface ContractOptions {
  scope?: string | null | ((url: URL) => string | null | undefined);
  allowedOrigins?: string[];
  onForeignOrigin?: 'omit' | 'throw';
}

/** One request: its own user (where the client has such a thing), method, body and headers. */
export interface ContractRequest {
  /** The request's own user; `null` asks for the client-wide token; absent: the client's option decides. */
  user?: string | null;
  method?: string;
  body?: string;
  /** A body sent as a stream of these chunks (read once as it is sent), in place of `body`. */
  stream?: string[];
  headers?: Record<string, string>;
}

/** A client built by an adapter. `send` never throws on an HTTP status, only on a failure. */
export interface ContractClient {
  send(url: string, request?: ContractRequest): Promise<{ status: number; body: unknown }>;
}

/** How the contract drives one adapter. */
export interface AdapterDriver {
  /** The adapter's name in test titles, e.g. `axiosAuth`. */
  name: string;
  client(manager: TokenManager, options: ContractOptions): ContractClient;
  /** The library error inside what the client threw (got wraps it in its RequestError). */
  unwrap(error: unknown): unknown;
  /** Releases what the driver opened (agents, sockets). */
  close?(): Promise<void>;
}

/** The user a Flux token is restricted to, undefined for a client-wide one. */
function userOfToken(token: string): string | undefined {
  const restricted = decodeJws(token).claims.restrictedTo;
  return typeof restricted === 'string' ? restricted : undefined;
}

const tokenOf = (authorization: string | undefined) => /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
const userOf = (authorization: string | undefined) => {
  const token = tokenOf(authorization);
  return token === undefined ? undefined : userOfToken(token);
};

/** Sends and returns the rejection (failing the test when the request succeeds). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the request to fail');
}

/** Runs the shared behaviour table against `driver`. */
export function runAdapterContract(driver: AdapterDriver): void {
  describe(`${driver.name}: the shared adapter contract`, () => {
    let emulator: Emulator;
    let second: ApiServer;
    let third: ApiServer;
    let manager: TokenManager;

    // One emulator per adapter (its RSA key takes a quarter of a second of CPU to make): each test
    // starts from zeroed counters, no fault, and a manager of its own, so no token carries over.
    beforeAll(async () => {
      emulator = await startEmulator();
    });
    afterAll(() => emulator.close());

    beforeEach(async () => {
      emulator.resetStats();
      emulator.setFault('none');
      emulator.setApiFault('none');
      second = await startApiServer();
      third = await startApiServer();
      manager = new TokenManager({ clientId: emulator.clientId, clientSecret: emulator.clientSecret, tokenUrl: emulator.tokenUrl, request: { retry: 0 } });
    });

    afterEach(async () => {
      await manager.close();
      await driver.close?.();
      await Promise.all([second.close(), third.close()]);
    });

    const tokenCalls = () => emulator.stats().tokenCalls;

    describe('users per request', () => {
      it("interleaved requests of two users each carry their own user's token, one token request per user", async () => {
        const client = driver.client(manager, {});
        const users = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 'user-1' : 'user-2'));
        const answers = await Promise.all(users.map((user, i) => client.send(`${emulator.url}/users/${user}/receipts/${i}`, { user })));

        expect(answers.map((a) => [a.status, (a.body as { user: string }).user])).toEqual(users.map((u) => [200, u]));
        expect(emulator.stats().api.unauthorized['wrong-user']).toBe(0);
        expect(tokenCalls().byScope).toEqual({ 'user-1': 1, 'user-2': 1 });
      });

      it('a scope function of the URL picks the user; null picks the client-wide token', async () => {
        const byPath = driver.client(manager, {
          allowedOrigins: [second.url],
          scope: (url) => (url.pathname.startsWith('/public/') ? null : /^\/users\/([^/]+)/.exec(url.pathname)?.[1]),
        });
        expect((await byPath.send(`${emulator.url}/users/user-3/x`)).status).toBe(200);
        await byPath.send(`${second.url}/public/anyone`);

        expect(userOf(second.requests[0]!.authorization)).toBeUndefined();
        expect(tokenOf(second.requests[0]!.authorization)).toBeDefined();
        expect(tokenCalls().byScope).toEqual({ 'user-3': 1, '*': 1 });
      });

      it("leaves the caller's own Authorization header alone, fetches no token, and does not retry its 401", async () => {
        const client = driver.client(manager, { allowedOrigins: [second.url] });
        second.failNext(1);
        const answer = await client.send(`${second.url}/public/x`, { user: 'user-1', headers: { authorization: 'Bearer mine' } });

        expect(answer.status).toBe(401);
        expect(second.authorizations()).toEqual(['Bearer mine']);
        expect(tokenCalls().total).toBe(0);
      });
    });

    describe('no request without a user', () => {
      it.each([
        ['no scope at all', {}],
        ['a scope function that returns undefined', { scope: () => undefined }],
      ] as [string, ContractOptions][])('%s: a typed error before anything is sent', async (_, options) => {
        const client = driver.client(manager, { allowedOrigins: [second.url], ...options });
        const error = driver.unwrap(await rejection(client.send(`${second.url}/public/x`)));

        expect(error).toBeInstanceOf(MissingScopeError);
        expect(error).toMatchObject({ code: 'FLUX_MISSING_SCOPE', adapter: driver.name });
        expect(second.requests).toHaveLength(0);
        expect(tokenCalls().total).toBe(0);
      });

      it('a scope function that throws fails that request with its error, sends nothing, and the next request still works', async () => {
        const broken = new Error('no user in this path');
        let calls = 0;
        const client = driver.client(manager, {
          allowedOrigins: [second.url],
          scope: () => {
            calls += 1;
            if (calls === 1) throw broken;
            return 'user-1';
          },
        });
        const error = driver.unwrap(await rejection(client.send(`${second.url}/public/first`)));

        expect(error).toBe(broken);
        expect(second.requests).toHaveLength(0);
        expect(tokenCalls().total).toBe(0);

        expect((await client.send(`${second.url}/public/second`)).status).toBe(200);
        expect(second.requests.map((r) => [r.path, userOf(r.authorization)])).toEqual([['/public/second', 'user-1']]);
        expect(tokenCalls().byScope).toEqual({ 'user-1': 1 });
      });

      it('scope: null on the client sends the client-wide token', async () => {
        const client = driver.client(manager, { allowedOrigins: [second.url], scope: null });
        await client.send(`${second.url}/public/x`);
        expect(tokenOf(second.requests[0]!.authorization)).toBeDefined();
        expect(userOf(second.requests[0]!.authorization)).toBeUndefined();
        expect(tokenCalls().byScope).toEqual({ '*': 1 });
      });
    });

    describe('the 401 policy', () => {
      it('a 401 invalidates that exact token: one renewal, one retry with the fresh token, then 200', async () => {
        const client = driver.client(manager, { allowedOrigins: [second.url] });
        await client.send(`${second.url}/public/warm`, { user: 'user-1' });
        second.failNext(1);
        const answer = await client.send(`${second.url}/public/x`, { user: 'user-1', method: 'POST', body: '{"amount":1250}', headers: { 'content-type': 'application/json' } });

        expect(answer.status).toBe(200);
        const [warm, rejected, retried] = second.requests;
        expect(second.requests.map((r) => [r.method, r.status])).toEqual([
          ['GET', 200],
          ['POST', 401],
          ['POST', 200],
        ]);
        expect(rejected!.authorization).toBe(warm!.authorization);
        expect(retried!.authorization).not.toBe(rejected!.authorization);
        expect(userOf(retried!.authorization)).toBe('user-1');
        expect(retried!.body).toBe('{"amount":1250}');
        expect(tokenCalls().byGrant).toEqual({ client_credentials: 1, refresh_token: 1 });
      });

      it("against the emulator's own API: a forced 401 is retried once and succeeds", async () => {
        const client = driver.client(manager, {});
        emulator.setApiFault('401', { count: 1 });
        const answer = await client.send(`${emulator.url}/users/user-1/receipts`, { user: 'user-1' });

        expect(answer.status).toBe(200);
        expect(emulator.stats().api.byStatus).toEqual({ 401: 1, 200: 1 });
        expect(tokenCalls().byGrant).toEqual({ client_credentials: 1, refresh_token: 1 });
      });

      it('a stream body is not replayed: its 401 goes back, the token is invalidated, and the next request gets a fresh one', async () => {
        const client = driver.client(manager, { allowedOrigins: [second.url] });
        second.failNext(1);
        const refused = await client.send(`${second.url}/public/upload`, { user: 'user-1', method: 'POST', stream: ['hello ', 'world'] });

        expect(refused.status).toBe(401);
        expect(second.requests.map((r) => [r.method, r.status, r.body])).toEqual([['POST', 401, 'hello world']]);
        expect(tokenCalls().total).toBe(1);

        const next = await client.send(`${second.url}/public/x`, { user: 'user-1' });
        expect(next.status).toBe(200);
        expect(second.requests).toHaveLength(2);
        expect(tokenOf(second.requests[1]!.authorization)).not.toBe(tokenOf(second.requests[0]!.authorization));
        expect(userOf(second.requests[1]!.authorization)).toBe('user-1');
        expect(tokenCalls().total).toBe(2);
      });

      it('a second 401 goes back to the caller after exactly two API calls', async () => {
        const client = driver.client(manager, { allowedOrigins: [second.url] });
        second.failNext(2);
        const answer = await client.send(`${second.url}/public/x`, { user: 'user-1' });

        expect(answer.status).toBe(401);
        expect(second.requests.map((r) => r.status)).toEqual([401, 401]);
        expect(tokenCalls().total).toBe(2);
      });

      it('inside the 401-loop cool-down, a 401 goes back without a resend: one API call per caller request', async () => {
        const client = driver.client(manager, { allowedOrigins: [second.url] });
        second.failNext(10);
        const perRequest: number[] = [];
        for (let i = 0; i < 3; i++) {
          const before = second.requests.length;
          expect((await client.send(`${second.url}/public/x`, { user: 'user-1' })).status).toBe(401);
          perRequest.push(second.requests.length - before);
        }
        // The first request renews once and retries; the replacement is refused too, which starts
        // the cool-down: later requests are not sent again with the token the API just refused.
        expect(perRequest).toEqual([2, 1, 1]);
        expect(tokenCalls().total).toBe(2);
      });
    });

    describe('redirects', () => {
      it('a redirect to another origin carries no token, even an allowed one', async () => {
        const client = driver.client(manager, { allowedOrigins: [second.url, third.url] });
        const answer = await client.send(`${second.url}/redirect?to=${encodeURIComponent(`${third.url}/public/x`)}`, { user: 'user-1' });

        expect(answer.status).toBe(200);
        expect(userOf(second.requests[0]!.authorization)).toBe('user-1');
        expect(third.authorizations()).toEqual([undefined]);
      });

      it('a same-origin redirect keeps the token', async () => {
        const client = driver.client(manager, { allowedOrigins: [second.url] });
        const answer = await client.send(`${second.url}/redirect?status=307&to=/public/next`, { user: 'user-1' });

        expect(answer.status).toBe(200);
        expect(second.requests.map((r) => [r.path, r.status, userOf(r.authorization)])).toEqual([
          ['/redirect?status=307&to=/public/next', 307, 'user-1'],
          ['/public/next', 200, 'user-1'],
        ]);
      });

      it('a 401 from another origin after a redirect is not retried (it carried no token)', async () => {
        const client = driver.client(manager, { allowedOrigins: [second.url] });
        third.failNext(1);
        const answer = await client.send(`${second.url}/redirect?to=${encodeURIComponent(`${third.url}/public/x`)}`, { user: 'user-1' });

        expect(answer.status).toBe(401);
        expect(second.requests).toHaveLength(1);
        expect(third.authorizations()).toEqual([undefined]);
        expect(tokenCalls().total).toBe(1);
      });
    });

    describe('origins', () => {
      it("by default only the token URL's origin gets tokens: another origin gets no header, and no token is fetched", async () => {
        const client = driver.client(manager, {});
        await client.send(`${second.url}/public/x`, { user: 'user-1' });
        expect(second.authorizations()).toEqual([undefined]);
        expect(tokenCalls().total).toBe(0);
      });

      it('allowedOrigins widens the list: the allowed origin gets the token, a third does not', async () => {
        const client = driver.client(manager, { allowedOrigins: [second.url] });
        await client.send(`${second.url}/public/x`, { user: 'user-1' });
        await client.send(`${third.url}/public/x`, { user: 'user-1' });
        expect(userOf(second.requests[0]!.authorization)).toBe('user-1');
        expect(third.authorizations()).toEqual([undefined]);
      });

      it("onForeignOrigin: 'throw' fails with ForeignOriginError before anything is sent", async () => {
        const client = driver.client(manager, { allowedOrigins: [second.url], onForeignOrigin: 'throw' });
        const error = driver.unwrap(await rejection(client.send(`${third.url}/public/x?key=abc`, { user: 'user-1' })));

        expect(error).toBeInstanceOf(ForeignOriginError);
        expect(error).toMatchObject({ code: 'FLUX_FOREIGN_ORIGIN', origin: third.url });
        expect((error as Error).message).not.toContain('key=abc');
        expect(third.requests).toHaveLength(0);
        expect(tokenCalls().total).toBe(0);
      });
    });
  });
}
