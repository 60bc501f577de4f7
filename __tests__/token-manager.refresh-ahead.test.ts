import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { TokenManager } from '../lib/manager/token-manager.js';
import type { Token } from '../lib/endpoint/token.js';
import { CLIENT_ID, CLIENT_SECRET, hasSettled, nextEvent, recordEvents, startHarness, type Harness } from './fixtures/manager-harness.js';
import { scopeOfTestToken, startTokenServer, type TokenServer } from './helpers/scripted-token-server.js';

describe('refresh ahead of expiry', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('callers in the refresh window get the current token at once, and one background refresh serves them all', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    const first = await manager.getToken('user-1');
    const tokens = recordEvents(manager, 'token');

    server.hold();
    clock.jumpTo(first.expiresAt - 300_000); // the window opens (no jitter drawn); the timer is late
    const callers = Array.from({ length: 100 }, () => manager.getToken('user-1'));
    // The server holds every request, so only a cached answer can settle.
    expect(await hasSettled(Promise.all(callers))).toBe(true);
    for (const token of await Promise.all(callers)) expect(token).toBe(first);

    await server.waitForRequests(2);
    clock.advance(0); // the scheduled refresh fires now too, and finds the one already running
    expect(manager.stats()).toMatchObject({ backgroundRefreshes: 1, inFlight: 1, hits: 100 });
    expect(server.requests[1]!.form).toEqual({ grant_type: 'refresh_token', refresh_token: first.refreshToken });

    const renewed = nextEvent(manager, 'token');
    server.release();
    expect(await renewed).toMatchObject({ scope: 'user-1', grant: 'refresh_token', background: true });
    const second = await manager.getToken('user-1');
    expect(second).not.toBe(first);
    expect(scopeOfTestToken(second.accessToken)).toBe('user-1');
    expect(server.requests).toHaveLength(2);
    expect(tokens).toHaveLength(1);
  });

  it('does not refresh idle tokens: the scheduled refresh fires, finds the token unused, and sends nothing', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    const scopes = Array.from({ length: 50 }, (_, i) => `idle-${i}`);
    const tokens = await Promise.all(scopes.map((s) => manager.getToken(s)));
    expect(manager.stats().scheduled).toBe(50);

    // Run every scheduled refresh, up to the last instant the tokens are still usable.
    clock.advanceTo(tokens[0]!.expiresAt - 30_001);
    expect(manager.stats()).toMatchObject({ scheduled: 0, inFlight: 0, backgroundRefreshes: 0 });
    expect(clock.live).toBe(0);
    clock.advance(10 * 3_600_000);
    expect(server.requests).toHaveLength(50);

    // Used again later, an idle user gets a new token then (one request), and only that user.
    await manager.getToken('idle-7');
    expect(server.requests).toHaveLength(51);
    expect(server.requests[50]).toMatchObject({ grant: 'refresh_token', scope: 'idle-7' });
  });

  it('a token used since it was issued is refreshed by the scheduled timer, one request for any number of uses', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    const first = await manager.getToken('busy');
    await manager.getToken('idle');
    for (let i = 0; i < 20; i++) await manager.getToken('busy');

    const renewed = nextEvent(manager, 'token');
    clock.advanceTo(first.expiresAt - 300_000);
    expect(await renewed).toMatchObject({ scope: 'busy', grant: 'refresh_token', background: true });
    expect(server.requests).toHaveLength(3);
    expect(server.callsFor('busy')).toBe(2);
    expect(server.callsFor('idle')).toBe(1);
  });
});

describe('refresh ahead with jest fake timers and the default clock and timers', () => {
  let server: TokenServer;
  let manager: TokenManager;
  afterEach(async () => {
    await manager.close();
    await server.close();
    jest.useRealTimers();
  });

  it('a used token is renewed once per lifetime by the timer, each time with the refresh token of the last answer', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    server = await startTokenServer({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    // Constructed after the fake clock is installed, so that its default `now` is the fake Date.now.
    manager = new TokenManager({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tokenUrl: server.tokenUrl, request: { retry: 0 }, clock: { random: () => 0 } });

    let previous: Token | undefined;
    for (let lifetime = 1; lifetime <= 3; lifetime++) {
      // The first call of a lifetime gets the token the timer fetched; the next ones are uses.
      const current = await manager.getToken('user-1');
      if (previous === undefined) expect(current.issuedAt).toBe(Date.now());
      else expect(current).not.toBe(previous);
      for (let i = 0; i < 5; i++) expect(await manager.getToken('user-1')).toBe(current);
      const renewed = nextEvent(manager, 'token');
      await jest.advanceTimersByTimeAsync(current.expiresAt - 300_000 - Date.now() - 1);
      expect(server.requests).toHaveLength(lifetime); // not yet
      await jest.advanceTimersByTimeAsync(1);
      await server.waitForRequests(lifetime + 1);
      expect(await renewed).toMatchObject({ scope: 'user-1', grant: 'refresh_token', background: true });
      expect(server.requests[lifetime]!.form).toEqual({ grant_type: 'refresh_token', refresh_token: current.refreshToken });
      previous = current;
    }
    expect(manager.stats()).toMatchObject({ backgroundRefreshes: 3, endpointCalls: { client_credentials: 1, refresh_token: 3 } });

    // The last renewed token is never asked for: its lifetime passes without a request.
    await jest.advanceTimersByTimeAsync(2 * 3_600_000);
    expect(await hasSettled(server.waitForRequests(5), 20)).toBe(false);
    expect(server.requests).toHaveLength(4);
    expect(manager.stats().scheduled).toBe(0);
  });
});
