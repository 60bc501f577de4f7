import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from '@jest/globals';
import { TokenManager } from '../lib/manager/token-manager.js';
import type { Token } from '../lib/endpoint/token.js';
import { nextEvent, recordEvents, startHarness, type Harness } from './fixtures/manager-harness.js';

describe('events and stats', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('`token` names the scope, the grant, whether it ran in the background, and the expiry', async () => {
    h = await startHarness();
    const { clock, manager } = h;
    const events = recordEvents(manager, 'token');
    const issuedAt = clock.now();
    const first = await manager.getToken('user-1');
    await manager.getToken();
    const renewed = nextEvent(manager, 'token');
    clock.jumpTo(first.expiresAt - 300_000);
    await manager.getToken('user-1');
    await renewed;
    expect(events).toEqual([
      { scope: 'user-1', grant: 'client_credentials', background: false, expiresIn: 3600, expiresAt: issuedAt + 3_600_000 },
      { scope: undefined, grant: 'client_credentials', background: false, expiresIn: 3600, expiresAt: issuedAt + 3_600_000 },
      { scope: 'user-1', grant: 'refresh_token', background: true, expiresIn: 3600, expiresAt: clock.now() + 3_600_000 },
    ]);
  });

  it('stats() counts hits, misses, calls by grant, background refreshes, failures, and the gauges', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    expect(manager.stats()).toEqual({
      hits: 0,
      misses: 0,
      joined: 0,
      endpointCalls: { client_credentials: 0, refresh_token: 0, total: 0 },
      backgroundRefreshes: 0,
      failures: 0,
      inFlight: 0,
      cached: 0,
      scheduled: 0,
      coolingDown: 0,
      clockOffsetMs: 0,
    });
    const a = await manager.getToken('a');
    for (let i = 0; i < 3; i++) await manager.getToken('a');
    await manager.getToken('b');
    server.failNext(1, { status: 400, body: { error: 'invalid_scope' } });
    await manager.getToken('c').catch(() => undefined);
    await manager.getToken('c').catch(() => undefined); // cooling down after a refusal: a miss, no call
    expect(manager.stats()).toEqual({
      hits: 3,
      misses: 4,
      joined: 0,
      endpointCalls: { client_credentials: 3, refresh_token: 0, total: 3 },
      backgroundRefreshes: 0,
      failures: 1,
      inFlight: 0,
      cached: 2,
      scheduled: 2,
      coolingDown: 1,
      clockOffsetMs: 0,
    });

    server.hold();
    clock.jumpTo(a.expiresAt - 300_000);
    await manager.getToken('a');
    await server.waitForRequests(4);
    expect(manager.stats()).toMatchObject({ hits: 4, inFlight: 1, backgroundRefreshes: 1, coolingDown: 0 });
    const renewed = nextEvent(manager, 'token');
    server.release();
    await renewed;
    expect(manager.stats()).toMatchObject({
      endpointCalls: { client_credentials: 3, refresh_token: 1, total: 4 },
      inFlight: 0,
      cached: 2,
    });
  });

  it('no event payload, stat or printed form of the manager holds a token, a refresh token or the client secret', async () => {
    const secret = 'S3cr3t-Value-Of-Client-42';
    h = await startHarness({ clientSecret: secret, maxScopes: 2 }, { clientSecret: secret });
    const { server, clock, manager } = h;
    const payloads: unknown[] = [];
    for (const event of ['token', 'refreshFailed', 'evicted'] as const) manager.on(event, (p: unknown) => payloads.push(p));
    const tokens: Token[] = [];
    const keep = (t: Token) => (tokens.push(t), t);

    const a = keep(await manager.getToken('a'));
    keep(await manager.getToken('a'));
    keep(await manager.getToken());
    // A refresh refused with a description that echoes the refresh token and the secret.
    server.failNext(1, { status: 400, body: { error: 'invalid_grant', error_description: `refresh token ${a.refreshToken} of ${secret} is revoked` } });
    manager.invalidate('a', a);
    keep(await manager.getToken('a'));
    // A background failure, an eviction, a foreground failure and a client-wide cool-down.
    server.failNext(1, { status: 503, body: { error: 'temporarily_unavailable' } });
    clock.jumpTo(clock.now() + 3_600_000 - 300_000);
    const backgroundFailed = nextEvent(manager, 'refreshFailed');
    keep(await manager.getToken('a'));
    expect(await backgroundFailed).toMatchObject({ background: true, next: 'retry' });
    keep(await manager.getToken('b'));
    server.failNext(1, { status: 401, body: { error: 'invalid_client', error_description: `bad secret ${secret}` } });
    await manager.getToken('c').catch((e: unknown) => payloads.push(e));
    await manager.getToken('d').catch((e: unknown) => payloads.push(e));

    expect(payloads.length).toBeGreaterThanOrEqual(8);
    const secrets = [secret, ...tokens.flatMap((t) => [t.accessToken, t.refreshToken!]), ...server.validRefreshTokens.keys()];
    const forms = [
      ...payloads.map((p) => JSON.stringify(p)),
      ...payloads.map((p) => inspect(p, { depth: Infinity, showHidden: true })),
      ...payloads.filter((p): p is Error => p instanceof Error).flatMap((e) => [String(e), e.stack ?? '']),
      ...payloads.map((p) => inspect((p as { error?: unknown }).error, { depth: Infinity, showHidden: true })),
      JSON.stringify(manager.stats()),
      inspect(manager),
      inspect(manager, { depth: Infinity, showHidden: true }),
      inspect(manager, { customInspect: false, depth: 4 }),
      JSON.stringify(manager),
      String(manager),
    ];
    for (const form of forms) for (const s of secrets) expect(form).not.toContain(s);
    expect(inspect(manager)).toContain('client-1');
    expect(JSON.parse(JSON.stringify(manager))).toMatchObject({ clientId: 'client-1', closed: false, stats: { cached: 2 } });
  });
});

describe('a printed manager', () => {
  it('util.inspect and JSON.stringify of a manager show its token URL without its query string', async () => {
    const manager = new TokenManager({
      clientId: 'client-1',
      clientSecret: 'not-this-one',
      tokenUrl: 'http://127.0.0.1:9/auth/oauth/token?client_secret=in-the-query',
    });
    try {
      for (const printed of [inspect(manager), inspect(manager, { depth: Infinity }), JSON.stringify(manager)]) {
        expect(printed).toContain('127.0.0.1:9/auth/oauth/token');
        expect(printed).not.toContain('in-the-query');
      }
    } finally {
      await manager.close();
    }
  });
});
