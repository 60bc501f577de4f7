import { afterEach, describe, expect, it } from '@jest/globals';
import { TokenEndpointError } from '../lib/shared/errors.js';
import { nextEvent, recordEvents, startHarness, type Harness } from './fixtures/manager-harness.js';
import { scopeOfTestToken } from './helpers/scripted-token-server.js';

describe('renewal', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('renews with the refresh grant and stores the rotated refresh token: each renewal spends the last one issued', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    const first = await manager.getToken('user-1');

    // Second token: a renewal in the background, inside the refresh window.
    const renewed = nextEvent(manager, 'token');
    clock.jumpTo(first.expiresAt - 300_000);
    await manager.getToken('user-1');
    await renewed;
    const second = await manager.getToken('user-1');
    // Third token: a foreground renewal after the API rejected the second (a 401 upstream).
    expect(manager.invalidate('user-1', second)).toBe(true);
    const third = await manager.getToken('user-1');

    expect(server.requests.map((r) => r.form)).toEqual([
      { grant_type: 'client_credentials', client_id: 'client-1', client_secret: 'secret-1', scope: 'user-1' },
      { grant_type: 'refresh_token', refresh_token: first.refreshToken },
      { grant_type: 'refresh_token', refresh_token: second.refreshToken },
    ]);
    expect(new Set([first.refreshToken, second.refreshToken, third.refreshToken]).size).toBe(3);
    for (const token of [first, second, third]) expect(scopeOfTestToken(token.accessToken)).toBe('user-1');
    expect(manager.stats().endpointCalls).toEqual({ client_credentials: 1, refresh_token: 2, total: 3 });
  });

  it('keeps the refresh token it has when the answer carries none (a server that does not rotate)', async () => {
    h = await startHarness();
    const { server, manager } = h;
    const first = await manager.getToken('user-1');
    const kept = first.refreshToken!;
    server.issueRefreshTokens = false;

    manager.invalidate('user-1', first);
    const second = await manager.getToken('user-1');
    expect(second.refreshToken).toBe(kept);
    // This server does not rotate: the refresh token stays valid, and the next renewal spends it again.
    server.validRefreshTokens.set(kept, 'user-1');
    // A 401 a cool-down step (1 s) after the renewal is no 401 loop: it renews at once.
    h.clock.advance(1_000);
    manager.invalidate('user-1', second.accessToken);
    const third = await manager.getToken('user-1');

    expect(server.requests.slice(1).map((r) => r.form)).toEqual([
      { grant_type: 'refresh_token', refresh_token: kept },
      { grant_type: 'refresh_token', refresh_token: kept },
    ]);
    expect(scopeOfTestToken(third.accessToken)).toBe('user-1');
    expect(third.refreshToken).toBe(kept);
  });

  it('falls back once to client_credentials for the same scope when the refresh token is refused (invalid_grant)', async () => {
    h = await startHarness();
    const { server, manager } = h;
    const first = await manager.getToken('user-1');
    const failures = recordEvents(manager, 'refreshFailed');
    server.validRefreshTokens.clear(); // revoked on the server

    manager.invalidate('user-1', first);
    const second = await manager.getToken('user-1');
    expect(scopeOfTestToken(second.accessToken)).toBe('user-1');
    expect(server.requests.slice(1).map((r) => r.form)).toEqual([
      { grant_type: 'refresh_token', refresh_token: first.refreshToken },
      { grant_type: 'client_credentials', client_id: 'client-1', client_secret: 'secret-1', scope: 'user-1' },
    ]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ scope: 'user-1', grant: 'refresh_token', background: false, next: 'fallback' });
    expect(failures[0]!.error).toMatchObject({ code: 'FLUX_TOKEN_ENDPOINT', status: 400, error: 'invalid_grant' });

    // The fallback's new refresh token is the one used next (a step later: no 401 loop).
    h.clock.advance(1_000);
    manager.invalidate('user-1', second);
    await manager.getToken('user-1');
    expect(server.requests[3]!.form).toEqual({ grant_type: 'refresh_token', refresh_token: second.refreshToken });
  });

  it('also falls back on a bare 401 to the refresh grant', async () => {
    h = await startHarness();
    const { server, manager } = h;
    const first = await manager.getToken('user-1');
    server.failNext(1, { status: 401, raw: '' });
    manager.invalidate('user-1', first);
    const second = await manager.getToken('user-1');
    expect(scopeOfTestToken(second.accessToken)).toBe('user-1');
    expect(server.requests.slice(1).map((r) => r.grant)).toEqual(['refresh_token', 'client_credentials']);
  });

  it('never loops: when the fallback fails too, callers get its error after exactly two requests', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    const first = await manager.getToken('user-1');
    server.failNext(10, { status: 400, body: { error: 'invalid_grant' } });
    manager.invalidate('user-1', first);

    const callers = Array.from({ length: 5 }, () => manager.getToken('user-1'));
    const errors = await Promise.all(callers.map((p) => p.then(() => undefined, (e: unknown) => e)));
    expect(errors[0]).toBeInstanceOf(TokenEndpointError);
    expect(errors[0]).toMatchObject({ status: 400, error: 'invalid_grant' });
    for (const error of errors) expect(error).toBe(errors[0]);
    expect(server.requests.slice(1).map((r) => r.grant)).toEqual(['refresh_token', 'client_credentials']);

    // Still no loop afterwards, and the refused refresh token is never spent again: the next
    // attempt (after the cool-down) is one client-credentials request.
    clock.advance(1_000);
    await expect(manager.getToken('user-1')).rejects.toBeInstanceOf(TokenEndpointError);
    expect(server.requests.slice(3).map((r) => r.grant)).toEqual(['client_credentials']);
  });

  it("with refresh.grant: 'client_credentials', ignores refresh tokens and asks for the scope again", async () => {
    h = await startHarness({ refresh: { grant: 'client_credentials' } });
    const { server, clock, manager } = h;
    const first = await manager.getToken('user-1');
    expect(first.refreshToken).toBeDefined();

    manager.invalidate('user-1', first);
    const second = await manager.getToken('user-1');
    const renewed = nextEvent(manager, 'token');
    clock.jumpTo(second.expiresAt - 300_000);
    await manager.getToken('user-1');
    expect(await renewed).toMatchObject({ grant: 'client_credentials', background: true });

    const form = { grant_type: 'client_credentials', client_id: 'client-1', client_secret: 'secret-1', scope: 'user-1' };
    expect(server.requests.map((r) => r.form)).toEqual([form, form, form]);
    expect(manager.stats().endpointCalls).toEqual({ client_credentials: 3, refresh_token: 0, total: 3 });
  });

  it('renews the client-wide token without a scope, in both grants', async () => {
    h = await startHarness();
    const { server, manager } = h;
    const first = await manager.getToken();
    server.validRefreshTokens.clear();
    manager.invalidate(undefined, first);
    const second = await manager.getToken();
    expect(scopeOfTestToken(second.accessToken)).toBeUndefined();
    expect(server.requests.map((r) => r.form)).toEqual([
      { grant_type: 'client_credentials', client_id: 'client-1', client_secret: 'secret-1' },
      { grant_type: 'refresh_token', refresh_token: first.refreshToken },
      { grant_type: 'client_credentials', client_id: 'client-1', client_secret: 'secret-1' },
    ]);
  });
});

describe('invalidate', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('drops the rejected token only while it is the cached one, and renews it with its own refresh token', async () => {
    h = await startHarness();
    const { server, manager } = h;
    const first = await manager.getToken('user-1');
    expect(manager.invalidate('user-2', first)).toBe(false); // nothing cached there
    expect(manager.invalidate('user-1', 'at.other.1')).toBe(false);
    expect(manager.invalidate('user-1', first.accessToken)).toBe(true);
    expect(manager.invalidate('user-1', first)).toBe(false); // already done
    const second = await manager.getToken('user-1');
    expect(second).not.toBe(first);
    // A second report of the old token, from a request that was already under way, keeps the new one.
    expect(manager.invalidate('user-1', first)).toBe(false);
    expect(await manager.getToken('user-1')).toBe(second);
    expect(server.requests.map((r) => r.grant)).toEqual(['client_credentials', 'refresh_token']);
    expect(() => manager.invalidate('', first)).toThrow(expect.objectContaining({ code: 'FLUX_INVALID_ARGUMENT' }));
  });

  it('a caller right after a renewal finished, who rejects the renewed token, gets a new one, not that one again', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    const first = await manager.getToken('user-1');
    let again: Promise<unknown> | undefined;
    manager.once('token', () => {
      // Same tick as the renewal: its flight must already be over.
      const renewed = manager.getToken('user-1');
      again = renewed.then((token) => {
        expect(manager.invalidate('user-1', token)).toBe(true);
        return manager.getToken('user-1').then((next) => {
          expect(next).not.toBe(token);
          return next;
        });
      });
    });
    clock.jumpTo(first.expiresAt - 300_000);
    await manager.getToken('user-1');
    await server.waitForRequests(2);
    while (again === undefined) await new Promise((resolve) => setImmediate(resolve));
    await again;
    expect(server.requests.map((r) => r.grant)).toEqual(['client_credentials', 'refresh_token', 'refresh_token']);
  });
});
