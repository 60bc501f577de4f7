/**
 * Interop with `@node-oauth/oauth2-server` 5.x, a strict RFC 6749 server nobody here wrote: it
 * requires client authentication on the refresh grant and answers a refresh without it with
 * `400 invalid_client`. Time is jest's fake clock, shared by the server (its token expiry), the
 * manager and got; real I/O runs while fake time stands still, so every count is deterministic.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import got from 'got';
import { DEFAULT_CONCURRENCY, authFetch, TokenManager, type TokenManagerOptions } from '../lib/index.js';
import { gotAuth } from '../lib/http/got.js';
import { timelineOf, tokenCallFloor } from '../bench/lib/token-timeline.js';
import { recordEvents } from './fixtures/manager-harness.js';
import { apiStatus as statusAt, serveEveryUser, step, useInteropClock, userIds as users } from './helpers/interop.js';
import { startNodeOAuthServer, type NodeOAuthServer } from './helpers/node-oauth-server.js';

/** Whether the server's own `authenticate` accepts `token` for `user` (its model, expiry and scope). */
const apiStatus = (user: string, accessToken: string) => statusAt(`${server.apiUrl}/users/${user}`, accessToken);

let server: NodeOAuthServer;
let manager: TokenManager | undefined;

beforeEach(async () => {
  useInteropClock();
  server = await startNodeOAuthServer({ accessTokenLifetime: 2 });
});
afterEach(async () => {
  await manager?.close();
  manager = undefined;
  await server.close();
  jest.useRealTimers();
});

function start(options: Partial<TokenManagerOptions> = {}): TokenManager {
  manager = new TokenManager({ tokenUrl: server.tokenUrl, clientId: server.clientId, clientSecret: server.clientSecret, ...options });
  return manager;
}

describe('@node-oauth/oauth2-server, default options', () => {
  it('serves every user for 10 s of 2 s tokens: 0 failed calls, token calls within a one-time learning step of the floor', async () => {
    const m = start();
    const learned = recordEvents(m, 'refreshAuthentication');
    const ids = users(20);
    const { failed, refused, calls } = await serveEveryUser(m, ids, 10_000, server.apiUrl);

    const floor = tokenCallFloor(ids.length, 10_000, timelineOf(2_000));
    const tokenCalls = server.requests.length;
    const refusals = server.requests.filter((r) => r.status !== 200);
    expect(calls).toBe(ids.length * 101);
    expect(failed).toBe(0);
    expect(refused).toBe(0);
    // The learning step: the refreshes sent before the first refusal came back, at most one per
    // request in flight; each was refused once, with invalid_client, and fell back.
    expect(refusals.length).toBeGreaterThanOrEqual(1);
    expect(refusals.length).toBeLessThanOrEqual(DEFAULT_CONCURRENCY);
    for (const r of refusals) expect(r).toMatchObject({ grant: 'refresh_token', authenticated: false, status: 400, error: 'invalid_client' });
    expect(tokenCalls).toBeLessThanOrEqual(floor + refusals.length);
    // After learning, every refresh carried the credentials and succeeded.
    const refreshes = server.requests.filter((r) => r.grant === 'refresh_token' && r.status === 200);
    expect(refreshes.length).toBeGreaterThan(ids.length * 3);
    for (const r of refreshes) expect(r.authenticated).toBe(true);
    expect(learned).toHaveLength(1);
    expect(m.stats().coolingDown).toBe(0);
    if (process.env.INTEROP_REPORT) process.stdout.write(`node-oauth soak: ${ids.length} users × 10 s of 2 s tokens: ${calls} getToken calls, ${failed} failed; ${tokenCalls} token calls (${refusals.length} refused in the learning step), floor ${floor.toFixed(1)}\n`);
  });

  it('cold start: 50 users × 5 concurrent callers cost exactly one client-credentials call per user', async () => {
    const m = start();
    const ids = users(50);
    const tokens = await Promise.all(ids.flatMap((id) => Array.from({ length: 5 }, () => m.getToken(id))));
    expect(server.requests).toHaveLength(50);
    expect(new Set(server.requests.map((r) => r.grant))).toEqual(new Set(['client_credentials']));
    for (const [i, token] of tokens.entries()) expect(await apiStatus(ids[Math.floor(i / 5)]!, token.accessToken)).toBe(200);
    // Another user's token is refused by the server's own scope check: the resource route is real.
    expect(await apiStatus('user-1', tokens[0]!.accessToken)).toBe(403);
  });
});

describe('@node-oauth/oauth2-server, client authentication on refresh', () => {
  it.each([
    ['client_secret_post', {}],
    ['client_secret_basic', { clientAuth: 'client_secret_basic' }],
  ] as const)('%s: after the one-time learning step, every refresh carries the credentials and is accepted', async (_what, options) => {
    const m = start(options);
    const ids = users(5);
    const { failed } = await serveEveryUser(m, ids, 4_000, server.apiUrl);
    expect(failed).toBe(0);
    const refused = server.requests.filter((r) => r.status !== 200);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeLessThanOrEqual(DEFAULT_CONCURRENCY);
    for (const r of refused) expect(r).toMatchObject({ grant: 'refresh_token', authenticated: false, status: 400, error: 'invalid_client' });
    const accepted = server.requests.filter((r) => r.grant === 'refresh_token' && r.status === 200);
    expect(accepted.length).toBeGreaterThanOrEqual(ids.length);
    for (const r of accepted) expect(r.authenticated).toBe(true);
  });
});

describe('@node-oauth/oauth2-server, got and fetch end to end', () => {
  it('through gotAuth and authFetch, each request reaches its own user across renewals', async () => {
    const m = start();
    const ids = users(10);
    const client = got.extend(gotAuth(m, { allowedOrigins: [server.apiUrl] }), { throwHttpErrors: false, retry: { limit: 0 } });
    const fetchAs = authFetch(m, {
      allowedOrigins: [server.apiUrl],
      scope: (request) => new URL(request.url).pathname.split('/')[2],
    });
    const statuses = new Map<number, number>();
    for (let t = 0; t <= 6_000; t += 250) {
      const answers = await Promise.all(
        ids.flatMap((id) => [
          client.get(`${server.apiUrl}/users/${id}`, { context: { scope: id } }).then((r) => r.statusCode),
          fetchAs(new Request(`${server.apiUrl}/users/${id}`)).then(async (r) => (await r.arrayBuffer(), r.status)),
        ]),
      );
      for (const status of answers) statuses.set(status, (statuses.get(status) ?? 0) + 1);
      await step(m, 250);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 200: ids.length * 2 * 25 });
    expect(Object.fromEntries(server.api)).toEqual({ 200: ids.length * 2 * 25 });
  });
});
