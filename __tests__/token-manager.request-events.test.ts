import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from '@jest/globals';
import { TokenEndpointError } from '../lib/shared/errors.js';
import type { TokenRequestEndEvent, TokenRequestStartEvent } from '../lib/manager/manager-events.js';
import { nextEvent, recordEvents, startHarness, type Harness } from './fixtures/manager-harness.js';

describe('requestStart and requestEnd events', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('report each token-endpoint request once, with its grant, outcome, HTTP status and duration by the manager clock', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    const starts = recordEvents(manager, 'requestStart');
    const ends = recordEvents(manager, 'requestEnd');
    // Every request lasts 250 ms by the manager's clock: the clock moves as the request is sent.
    manager.on('requestStart', () => clock.jumpTo(clock.now() + 250));

    const first = await manager.getToken('user-1');
    server.failNext(1, { status: 503, body: { error: 'temporarily_unavailable' } });
    await expect(manager.getToken('user-2')).rejects.toBeInstanceOf(TokenEndpointError);
    // A refused refresh token: one refresh request, then one client-credentials request.
    manager.invalidate('user-1', first);
    server.failNext(1, { status: 400, body: { error: 'invalid_grant' } });
    await manager.getToken('user-1');

    expect(server.requests).toHaveLength(4);
    expect(manager.stats().endpointCalls.total).toBe(4);
    expect(starts.map(({ scope, grant, background }) => ({ scope, grant, background }))).toEqual([
      { scope: 'user-1', grant: 'client_credentials', background: false },
      { scope: 'user-2', grant: 'client_credentials', background: false },
      { scope: 'user-1', grant: 'refresh_token', background: false },
      { scope: 'user-1', grant: 'client_credentials', background: false },
    ]);
    expect(ends.map(({ id, scope, grant, outcome, status, durationMs }) => ({ id, scope, grant, outcome, status, durationMs }))).toEqual([
      { id: starts[0]!.id, scope: 'user-1', grant: 'client_credentials', outcome: 'success', status: 200, durationMs: 250 },
      { id: starts[1]!.id, scope: 'user-2', grant: 'client_credentials', outcome: 'FLUX_TOKEN_ENDPOINT', status: 503, durationMs: 250 },
      { id: starts[2]!.id, scope: 'user-1', grant: 'refresh_token', outcome: 'FLUX_TOKEN_ENDPOINT', status: 400, durationMs: 250 },
      { id: starts[3]!.id, scope: 'user-1', grant: 'client_credentials', outcome: 'success', status: 200, durationMs: 250 },
    ]);
    expect(new Set(starts.map((s) => s.id)).size).toBe(4);
    expect(ends[1]!.error).toBeInstanceOf(TokenEndpointError);
    expect(ends[0]).not.toHaveProperty('error');
    for (const [i, end] of ends.entries()) expect(end.startedAt).toBe(starts[i]!.startedAt);
  });

  it('a background renewal is reported as background, and as foreground once a caller waits for it', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    const starts = recordEvents(manager, 'requestStart');
    const ends = recordEvents(manager, 'requestEnd');
    const token = await manager.getToken('user-1');
    clock.jumpTo(token.expiresAt - 300_000);
    // `token` comes after `requestEnd`, once the new token is cached.
    let renewed = nextEvent(manager, 'token');
    await manager.getToken('user-1'); // a hit inside the refresh window: renews in the background
    await renewed;
    expect(ends[1]).toMatchObject({ grant: 'refresh_token', background: true, outcome: 'success' });

    // The next renewal is held; a caller then needs the token (it was rejected) and waits for it.
    const next = await manager.getToken('user-1');
    clock.jumpTo(next.expiresAt - 300_000);
    server.hold();
    await manager.getToken('user-1');
    await server.waitForRequests(3);
    manager.invalidate('user-1', next);
    const waiting = manager.getToken('user-1');
    renewed = nextEvent(manager, 'token');
    server.release();
    await waiting;
    await renewed;
    expect(starts[2]).toMatchObject({ grant: 'refresh_token', background: true });
    expect(ends[2]).toMatchObject({ id: starts[2]!.id, background: false, outcome: 'success' });
  });

  it('payloads hold no token, refresh token or client secret', async () => {
    const secret = 'S3cr3t-Of-Request-Events';
    h = await startHarness({ clientSecret: secret }, { clientSecret: secret });
    const { server, manager } = h;
    const payloads: (TokenRequestStartEvent | TokenRequestEndEvent)[] = [];
    manager.on('requestStart', (p) => payloads.push(p));
    manager.on('requestEnd', (p) => payloads.push(p));
    const a = await manager.getToken('a');
    manager.invalidate('a', a);
    server.failNext(1, { status: 400, body: { error: 'invalid_grant', error_description: `refresh token ${a.refreshToken} of ${secret}` } });
    const b = await manager.getToken('a');
    expect(payloads).toHaveLength(6);
    const secrets = [secret, a.accessToken, a.refreshToken!, b.accessToken, b.refreshToken!];
    for (const p of payloads) {
      for (const form of [JSON.stringify(p), inspect(p, { depth: Infinity, showHidden: true })]) {
        for (const s of secrets) expect(form).not.toContain(s);
      }
    }
  });
});

describe('stats() lookups: hits, misses and joined', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('counts callers who wait for a request already in flight as joined, not as misses', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    server.hold();
    const cold = [manager.getToken('a'), manager.getToken('a'), manager.getToken('a'), manager.getToken('b')];
    await server.waitForRequests(2);
    expect(manager.stats()).toMatchObject({ hits: 0, misses: 2, joined: 2, inFlight: 2 });
    server.release();
    const a = (await Promise.all(cold))[0]!;
    await manager.getToken('a');
    expect(manager.stats()).toMatchObject({ hits: 1, misses: 2, joined: 2, endpointCalls: { total: 2 } });

    // A caller who needs the token while a background renewal runs joins that renewal.
    clock.jumpTo(a.expiresAt - 300_000);
    server.hold();
    await manager.getToken('a'); // a hit that starts the renewal
    await server.waitForRequests(3);
    manager.invalidate('a', a);
    const joined = manager.getToken('a');
    server.release();
    await joined;
    expect(manager.stats()).toMatchObject({ hits: 2, misses: 2, joined: 3, endpointCalls: { total: 3 } });
  });

  it('hits + misses + joined equals the getToken calls that passed their argument checks', async () => {
    h = await startHarness();
    const { server, manager } = h;
    const calls: Promise<unknown>[] = [];
    server.hold();
    for (let i = 0; i < 30; i++) calls.push(manager.getToken(`user-${i % 7}`).catch(() => undefined));
    await server.waitForRequests(7);
    server.release();
    await Promise.all(calls);
    for (let i = 0; i < 10; i++) calls.push(manager.getToken(`user-${i % 7}`));
    await manager.getToken('').catch(() => undefined); // rejected before any lookup
    await Promise.all(calls);
    const { hits, misses, joined, endpointCalls } = manager.stats();
    expect({ hits, misses, joined }).toEqual({ hits: 10, misses: 7, joined: 23 });
    expect(hits + misses + joined).toBe(calls.length);
    expect(endpointCalls.total).toBe(misses);
  });
});
