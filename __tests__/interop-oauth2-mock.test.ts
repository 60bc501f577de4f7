/**
 * Interop with `oauth2-mock-server` 8.x, a server nobody here wrote, whose tokens a resource server
 * checks against the issuer's JWKS. Out of the box it issues no refresh token with client
 * credentials, and answers a refresh with another scope (`dummy`): the manager must never hand that
 * token out. Time is jest's fake clock, shared by the servers, the manager and got.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import got from 'got';
import { authFetch, TokenManager, type TokenManagerOptions } from '../lib/index.js';
import { gotAuth } from '../lib/http/got.js';
import type { RefreshFailedEvent } from '../lib/manager/manager-events.js';
import { timelineOf, tokenCallFloor } from '../bench/lib/token-timeline.js';
import { recordEvents } from './fixtures/manager-harness.js';
import { apiStatus, serveEveryUser, step, useInteropClock, userIds } from './helpers/interop.js';
import { startMockOAuthServer, type MockOAuthServer } from './helpers/mock-oauth-server.js';

let server: MockOAuthServer | undefined;
let manager: TokenManager | undefined;
afterEach(async () => {
  await manager?.close();
  await server?.close();
  manager = undefined;
  server = undefined;
  jest.useRealTimers();
});

async function start(serverOptions: Parameters<typeof startMockOAuthServer>[0], options: Partial<TokenManagerOptions> = {}) {
  useInteropClock();
  const s = await startMockOAuthServer(serverOptions);
  server = s;
  manager = new TokenManager({ tokenUrl: s.tokenUrl, clientId: 'mock-client', clientSecret: 'mock-secret', ...options });
  return { s, m: manager };
}

describe('oauth2-mock-server as it comes (no refresh tokens)', () => {
  it('cold start: 40 users × 5 callers cost one call per user; each token opens its own user only', async () => {
    const { s, m } = await start({});
    const ids = userIds(40);
    const tokens = await Promise.all(ids.flatMap((id) => Array.from({ length: 5 }, () => m.getToken(id))));
    expect(s.requests).toHaveLength(40);
    for (const [i, token] of tokens.entries()) expect(await apiStatus(`${s.apiUrl}/users/${ids[Math.floor(i / 5)]!}`, token.accessToken)).toBe(200);
    expect(await apiStatus(`${s.apiUrl}/users/user-1`, tokens[0]!.accessToken)).toBe(403);
  });

  it('renews ahead with client credentials: 0 failed calls for 6 s of 2 s tokens, at most the floor', async () => {
    const { s, m } = await start({});
    const ids = userIds(10);
    const { failed, refused } = await serveEveryUser(m, ids, 6_000, s.apiUrl);
    expect([failed, refused]).toEqual([0, 0]);
    expect(new Set(s.requests.map((r) => r.grant))).toEqual(new Set(['client_credentials']));
    expect(s.requests.length).toBeLessThanOrEqual(tokenCallFloor(ids.length, 6_000, timelineOf(2_000)));
  });
});

describe('oauth2-mock-server with refresh tokens', () => {
  it('its own refresh answers scope "dummy": scope_mismatch, never handed out, one fallback each, 0 failed calls', async () => {
    const { s, m } = await start({ refresh: 'mock-default' });
    const failures = recordEvents(m, 'refreshFailed');
    const ids = userIds(5);
    const { failed, refused } = await serveEveryUser(m, ids, 4_000, s.apiUrl);
    expect([failed, refused]).toEqual([0, 0]);
    const refreshes = s.requests.filter((r) => r.grant === 'refresh_token');
    expect(refreshes.length).toBeGreaterThanOrEqual(ids.length);
    for (const r of refreshes) expect(r.scope).toBe('dummy');
    expect(failures).toHaveLength(refreshes.length);
    for (const f of failures as RefreshFailedEvent[]) {
      expect(f).toMatchObject({ grant: 'refresh_token', next: 'fallback' });
      expect(f.error).toMatchObject({ reason: 'scope_mismatch' });
    }
    // Each refused refresh token is never spent again: every renewal after it starts from the
    // fallback's fresh refresh token, which is refused the same way.
    expect(s.requests.filter((r) => r.grant === 'client_credentials')).toHaveLength(ids.length + refreshes.length);
  });

  it.each([
    ['without client authentication (the default)', {}, false],
    // The server accepts a refresh without credentials: the manager never learns to send them.
    ['with client_secret_basic, which only the client-credentials grant uses here', { clientAuth: 'client_secret_basic' }, false],
  ] as const)('a refresh that keeps the scope, %s: renewed with the refresh grant, 0 failed calls', async (_what, options, authenticated) => {
    const { s, m } = await start({ refresh: 'keep-scope' }, options);
    const ids = userIds(5);
    const { failed, refused } = await serveEveryUser(m, ids, 4_000, s.apiUrl);
    expect([failed, refused]).toEqual([0, 0]);
    const refreshes = s.requests.filter((r) => r.grant === 'refresh_token');
    expect(refreshes.length).toBeGreaterThanOrEqual(ids.length * 2);
    for (const r of refreshes) expect(r.authenticated).toBe(authenticated);
    expect(s.requests.filter((r) => r.grant === 'client_credentials')).toHaveLength(ids.length);
  });
});

describe('oauth2-mock-server, got and fetch end to end', () => {
  it('through gotAuth and authFetch, each request reaches its own user across renewals', async () => {
    const { s, m } = await start({ refresh: 'keep-scope' });
    const ids = userIds(8);
    const client = got.extend(gotAuth(m, { allowedOrigins: [s.apiUrl] }), { throwHttpErrors: false, retry: { limit: 0 } });
    const fetchAs = authFetch(m, { allowedOrigins: [s.apiUrl], scope: (request) => new URL(request.url).pathname.split('/')[2] });
    let sent = 0;
    for (let t = 0; t <= 5_000; t += 250) {
      await Promise.all(
        ids.flatMap((id) => [
          client.get(`${s.apiUrl}/users/${id}`, { context: { scope: id } }),
          fetchAs(new Request(`${s.apiUrl}/users/${id}`)).then((r) => r.arrayBuffer()),
        ]),
      );
      sent += ids.length * 2;
      await step(m, 250);
    }
    expect(Object.fromEntries(s.api)).toEqual({ 200: sent });
  });
});
