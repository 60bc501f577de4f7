/**
 * A refused refresh, in every shape a server sends it: whatever the HTTP status and whatever the
 * RFC 6749 §5.2 `error` code, the manager falls back once to client credentials for that user, and
 * never sends the refused refresh token again.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { startHarness, type Harness } from './fixtures/manager-harness.js';
import { scopeOfTestToken } from './helpers/scripted-token-server.js';
import { learnRefreshAuthentication } from './fixtures/refresh-authentication.js';

describe('a refused refresh', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it.each([
    [200, 'invalid_grant'],
    [403, 'invalid_grant'],
    [400, 'invalid_grant'],
    [401, 'unauthorized_client'],
    [400, 'unsupported_grant_type'],
    [403, 'access_denied'],
  ])('answered %i %s falls back to client credentials for that user, and the refresh token is never sent again', async (status, error) => {
    h = await startHarness();
    const { server, clock, manager } = h;
    const first = await manager.getToken('user-1');
    server.failNext(1, { status, body: { error } });

    clock.jumpTo(first.expiresAt);
    const second = await manager.getToken('user-1');
    expect(scopeOfTestToken(second.accessToken)).toBe('user-1');
    expect(server.requests.slice(1).map((r) => r.grant)).toEqual(['refresh_token', 'client_credentials']);
    expect(server.requests[1]!.form.refresh_token).toBe(first.refreshToken);

    // Later renewals spend the fallback's refresh token, never the refused one.
    clock.jumpTo(second.expiresAt);
    await manager.getToken('user-1');
    const sent = server.requests.map((r) => r.form.refresh_token).filter((rt) => rt !== undefined);
    expect(sent).toEqual([first.refreshToken, second.refreshToken]);
  });

  it.each(['invalid_client', 'unauthorized_client'])(
    'an authenticated refresh answered 401 %s while client credentials work: falls back, and cools down neither the user nor the client',
    async (error) => {
      h = await startHarness();
      const { server, clock, manager } = h;
      await learnRefreshAuthentication(manager, () => server.failNext(1, { status: 400, body: { error: 'invalid_client' } }));
      const learned = server.requests.length;
      const first = await manager.getToken('user-1');
      const other = await manager.getToken('user-2');
      // The refresh grant is disabled for this client: every refresh is refused.
      server.failNext(1, { status: 401, body: { error } });

      clock.jumpTo(first.expiresAt);
      const second = await manager.getToken('user-1');
      expect(scopeOfTestToken(second.accessToken)).toBe('user-1');
      expect(server.requests.slice(learned + 2).map((r) => [r.grant, r.form.client_secret !== undefined])).toEqual([
        ['refresh_token', true],
        ['client_credentials', true],
      ]);
      // Another user, at once, with no cool-down in the way.
      expect(manager.stats().coolingDown).toBe(0);
      manager.invalidate('user-2', other);
      expect(scopeOfTestToken((await manager.getToken('user-2')).accessToken)).toBe('user-2');
      const refreshTokens = server.requests.map((r) => r.form.refresh_token).filter((rt) => rt !== undefined);
      expect(refreshTokens.filter((rt) => rt === first.refreshToken)).toHaveLength(1);
    },
  );

  it('a refresh refused while its fallback fails too is still never sent again', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    const first = await manager.getToken('user-1');
    server.failNext(2, { status: 403, body: { error: 'invalid_grant' } });
    clock.jumpTo(first.expiresAt);
    await expect(manager.getToken('user-1')).rejects.toMatchObject({ code: 'FLUX_TOKEN_ENDPOINT', status: 403 });
    clock.advance(60_000);
    await manager.getToken('user-1');
    expect(server.requests.slice(1).map((r) => r.grant)).toEqual(['refresh_token', 'client_credentials', 'client_credentials']);
  });
});

describe('failures of one cause that overlap in time', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('count once: 20 users refused invalid_client together cool the client down for one step, not twenty', async () => {
    h = await startHarness({ concurrency: 20 });
    const { server, clock, manager } = h;
    // A transient invalid_client (a secret rotation): the 20 concurrent first requests are refused.
    server.hold();
    server.failNext(20, { status: 401, body: { error: 'invalid_client' } });
    const users = Array.from({ length: 20 }, (_, i) => `user-${i}`);
    const first = users.map((u) => manager.getToken(u).then(() => undefined, (e: unknown) => e));
    await server.waitForRequests(20);
    server.release();
    for (const error of await Promise.all(first)) expect(error).toMatchObject({ status: 401, error: 'invalid_client' });

    // The server has recovered. One cool-down step (1 s) later every user gets a token.
    clock.advance(1_000);
    const tokens = await Promise.all(users.map((u) => manager.getToken(u)));
    expect(tokens.map((t) => scopeOfTestToken(t.accessToken))).toEqual(users);
    expect(server.requests).toHaveLength(40);
  });

  it('count once when the requests queue: 20 users through 2 at a time, time passing between sends', async () => {
    h = await startHarness({ concurrency: 2 });
    const { server, clock, manager } = h;
    manager.on('requestStart', () => clock.advance(10));
    server.failNext(20, { status: 401, body: { error: 'invalid_client' } });
    const users = Array.from({ length: 20 }, (_, i) => `user-${i}`);
    const first = await Promise.all(users.map((u) => manager.getToken(u).then(() => undefined, (e: unknown) => e)));
    for (const error of first) expect(error).toMatchObject({ status: 401, error: 'invalid_client' });
    expect(server.requests).toHaveLength(20);

    clock.advance(1_000);
    const tokens = await Promise.all(users.map((u) => manager.getToken(u)));
    expect(tokens.map((t) => scopeOfTestToken(t.accessToken))).toEqual(users);
  });
});
