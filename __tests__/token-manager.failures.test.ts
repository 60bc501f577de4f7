import { afterEach, describe, expect, it } from '@jest/globals';
import { TokenEndpointError } from '../lib/shared/errors.js';
import type { RefreshFailedEvent } from '../lib/manager/manager-events.js';
import { nextEvent, recordEvents, startHarness, type Harness } from './fixtures/manager-harness.js';
import { scopeOfTestToken } from './helpers/scripted-token-server.js';
import { learnRefreshAuthentication } from './fixtures/refresh-authentication.js';

const UNAVAILABLE = { status: 503, body: { error: 'temporarily_unavailable' } };
/** A refusal the server will repeat: its cool-down holds as it is (no probe). */
const REFUSED = { status: 400, body: { error: 'invalid_scope' } };

/** Waits for every caller and returns what each was rejected with (or undefined). */
function rejections(calls: Promise<unknown>[]): Promise<unknown[]> {
  return Promise.all(calls.map((p) => p.then(() => undefined, (error: unknown) => error)));
}

describe('a failed background refresh', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('keeps serving the current token until its margin, retrying with growing delays, and reports each failure', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    const current = await manager.getToken('user-1');
    await manager.getToken('user-1'); // used: worth renewing
    const usableUntil = current.expiresAt - 30_000;
    server.failNext(1_000, UNAVAILABLE);

    const failures: (RefreshFailedEvent & { at: number })[] = [];
    let failed = nextEvent(manager, 'refreshFailed');
    clock.advanceTo(current.expiresAt - 300_000);
    for (;;) {
      const event = await failed;
      failures.push({ ...event, at: clock.now() });
      // Served from the cache, and no request between attempts, however many callers come.
      for (let i = 0; i < 20; i++) expect(await manager.getToken('user-1')).toBe(current);
      expect(server.requests).toHaveLength(1 + failures.length);
      if (event.retryAt! >= usableUntil) break;
      failed = nextEvent(manager, 'refreshFailed');
      clock.advanceTo(event.retryAt!);
    }

    for (const event of failures) {
      expect(event).toMatchObject({ scope: 'user-1', grant: 'refresh_token', background: true, next: 'retry' });
      expect(event.error).toBeInstanceOf(TokenEndpointError);
      expect(event.error).toMatchObject({ status: 503, error: 'temporarily_unavailable' });
    }
    const delays = failures.map((e) => e.retryAt! - e.at);
    // 270 s of window: a hot loop would make thousands of attempts; backoff makes about fifteen,
    // and fitting the tries to the time left adds about ten near the margin.
    expect(failures.length).toBeGreaterThanOrEqual(8);
    expect(failures.length).toBeLessThanOrEqual(30);
    expect(delays[0]).toBeGreaterThanOrEqual(500);
    // The delays grow (backoff), then shrink as the margin nears: never later than halfway to it.
    const longest = delays.indexOf(Math.max(...delays));
    for (let i = 1; i <= longest; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]!);
    for (let i = longest + 1; i < delays.length; i++) expect(delays[i]).toBeLessThanOrEqual(delays[i - 1]!);
    failures.forEach((e, i) => expect(delays[i]).toBeLessThanOrEqual(Math.max(100, (usableUntil - e.at) / 2)));
    expect(Math.max(...delays)).toBeLessThanOrEqual(60_000);
    expect(failures.at(-1)!.retryAt).toBe(usableUntil);
    expect(clock.maxLive).toBe(1);
    expect(manager.stats()).toMatchObject({ failures: failures.length, backgroundRefreshes: failures.length, coolingDown: 0 });

    // At the margin the token is no longer served: the caller waits, and gets the typed error.
    clock.jumpTo(usableUntil);
    const giveUp = nextEvent(manager, 'refreshFailed');
    await expect(manager.getToken('user-1')).rejects.toMatchObject({ code: 'FLUX_TOKEN_ENDPOINT', status: 503 });
    expect(await giveUp).toMatchObject({ background: false, next: 'give-up' });
  });

  it('succeeds on a later retry, then serves the new token', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    const first = await manager.getToken('user-1');
    await manager.getToken('user-1');
    server.failNext(2, UNAVAILABLE);
    const failures = recordEvents(manager, 'refreshFailed');
    const renewed = nextEvent(manager, 'token');
    clock.advanceTo(first.expiresAt - 300_000);
    await server.waitForRequests(2);
    while (failures.length < 1) await new Promise((resolve) => setImmediate(resolve));
    clock.advanceTo(failures[0]!.retryAt!);
    await server.waitForRequests(3);
    while (failures.length < 2) await new Promise((resolve) => setImmediate(resolve));
    clock.advanceTo(failures[1]!.retryAt!);
    expect(await renewed).toMatchObject({ scope: 'user-1', grant: 'refresh_token', background: true });
    const second = await manager.getToken('user-1');
    expect(second).not.toBe(first);
    expect(scopeOfTestToken(second.accessToken)).toBe('user-1');
    expect(server.requests.slice(1).map((r) => r.form)).toEqual(Array(3).fill({ grant_type: 'refresh_token', refresh_token: first.refreshToken }));
  });
});

describe('a background refresh started by a caller, failing near the margin', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it("leaves the schedule in order: another scope's due renewal still runs", async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    const a = await manager.getToken('user-a');
    clock.advance(1_000);
    await manager.getToken('user-b');
    await manager.getToken('user-a'); // both used: both worth renewing
    await manager.getToken('user-b');
    server.failNext(1, UNAVAILABLE);

    // The event loop is late: both renewals are due, no timer has run, and a caller of user-a
    // comes 100 ms before its margin. Its renewal starts from the hot path, and fails; the retry
    // would fall past the margin, so it is not rescheduled.
    clock.jumpTo(a.expiresAt - 30_000 - 100);
    const failed = nextEvent(manager, 'refreshFailed');
    expect(await manager.getToken('user-a')).toBe(a);
    expect(await failed).toMatchObject({ scope: 'user-a', background: true, next: 'retry' });
    expect(manager.stats().inFlight).toBe(0);

    // When the timer runs, user-b's renewal (due long ago) starts.
    const renewed = nextEvent(manager, 'token');
    clock.advance(1);
    expect(manager.stats().inFlight).toBe(1);
    expect(await renewed).toMatchObject({ scope: 'user-b', background: true, grant: 'refresh_token' });
  });
});

describe('a background refresh that carried the client credentials, refused with invalid_client, and its fallback too', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('cools the whole client down: other scopes in their window serve their token and send nothing', async () => {
    // Only a request that carried the credentials proves anything about them.
    h = await startHarness();
    const { server, clock, manager } = h;
    await learnRefreshAuthentication(manager, () => server.failNext(1, { status: 400, body: { error: 'invalid_client' } }));
    const learned = server.requests.length;
    const a = await manager.getToken('user-a');
    const b = await manager.getToken('user-b');
    await manager.getToken('user-a');
    // The credentials are bad: the refresh and its fallback to client credentials are both refused.
    server.failNext(2, { status: 401, body: { error: 'invalid_client' } });
    const failures = recordEvents(manager, 'refreshFailed');
    const failed = new Promise<void>((resolve) => manager.on('refreshFailed', (e) => e.next === 'retry' && resolve()));
    // Only user-a was used since issue: its scheduled refresh is the one that runs, and fails.
    clock.advanceTo(a.expiresAt - 300_000);
    await failed;
    expect(failures.map((e) => [e.scope, e.grant, e.background, e.next])).toEqual([
      ['user-a', 'refresh_token', true, 'fallback'],
      ['user-a', 'client_credentials', true, 'retry'],
    ]);
    expect(server.requests.slice(learned + 2).map((r) => r.grant)).toEqual(['refresh_token', 'client_credentials']);

    // user-b is in its window too: it is still served, and no request is started for it.
    for (let i = 0; i < 5; i++) expect(await manager.getToken('user-b')).toBe(b);
    expect(server.requests).toHaveLength(learned + 4);
    expect(manager.stats().coolingDown).toBeGreaterThanOrEqual(1);
  });
});

describe('a failed foreground request', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('rejects every caller of the flight with the same typed error, after one request', async () => {
    h = await startHarness();
    const { server, manager } = h;
    const failures = recordEvents(manager, 'refreshFailed');
    server.hold();
    server.failNext(1, UNAVAILABLE);
    const calls = Array.from({ length: 10 }, () => manager.getToken('user-1'));
    await server.waitForRequests(1);
    server.release();
    const errors = await rejections(calls);
    expect(errors[0]).toBeInstanceOf(TokenEndpointError);
    expect(errors[0]).toMatchObject({ code: 'FLUX_TOKEN_ENDPOINT', status: 503, error: 'temporarily_unavailable', retryable: true });
    for (const error of errors) expect(error).toBe(errors[0]);
    expect(server.requests).toHaveLength(1);
    expect(failures).toEqual([{ scope: 'user-1', grant: 'client_credentials', background: false, error: errors[0], next: 'give-up' }]);
    expect(manager.stats()).toMatchObject({ failures: 1, coolingDown: 1, inFlight: 0, cached: 0 });
  });

  it('cools the scope down for 1 s after a refusal: later callers get the same error without a request, then a request goes out', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    server.failNext(1, REFUSED);
    const error = await manager.getToken('user-1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenEndpointError);

    clock.advance(999);
    const later = await rejections(Array.from({ length: 50 }, () => manager.getToken('user-1')));
    for (const e of later) expect(e).toBe(error);
    expect(server.requests).toHaveLength(1);
    // Other scopes are not affected by this scope's cool-down.
    await manager.getToken('user-2');
    expect(server.requests).toHaveLength(2);

    clock.advance(1);
    const token = await manager.getToken('user-1');
    expect(scopeOfTestToken(token.accessToken)).toBe('user-1');
    expect(server.callsFor('user-1')).toBe(2);
    expect(manager.stats().coolingDown).toBe(0);
  });

  it('after a transient failure, the 50 callers who come inside the cool-down share one probe request', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    server.failNext(1, UNAVAILABLE);
    await expect(manager.getToken('user-1')).rejects.toBeInstanceOf(TokenEndpointError);
    clock.advance(500);
    const tokens = await Promise.all(Array.from({ length: 50 }, () => manager.getToken('user-1')));
    for (const token of tokens) expect(token).toBe(tokens[0]);
    expect(server.requests).toHaveLength(2);
    expect(manager.stats().coolingDown).toBe(0);
  });

  it('grows the cool-down on repeated failures, up to maxCooldown, and resets it after a success', async () => {
    h = await startHarness({ cooldown: { base: 1_000, max: 3_000 } });
    const { server, clock, manager } = h;
    server.failNext(4, REFUSED);
    let outcome: unknown = await manager.getToken('user-1').catch((e: unknown) => e);
    // Doubling from 1 s, capped at 3 s; the fifth request succeeds.
    for (const [i, cooldown] of [1_000, 2_000, 3_000, 3_000].entries()) {
      const error = outcome;
      expect(error).toBeInstanceOf(TokenEndpointError);
      const failedAt = clock.now();
      clock.jumpTo(failedAt + cooldown - 1);
      await expect(manager.getToken('user-1')).rejects.toBe(error);
      expect(server.requests).toHaveLength(i + 1);
      clock.jumpTo(failedAt + cooldown);
      outcome = await manager.getToken('user-1').catch((e: unknown) => e);
      expect(server.requests).toHaveLength(i + 2);
    }
    expect(scopeOfTestToken((outcome as { accessToken: string }).accessToken)).toBe('user-1');

    // After a success, the next failure cools down for 1 s again (the refresh and its fallback are refused).
    server.failNext(2, REFUSED);
    manager.invalidate('user-1', (outcome as { accessToken: string }).accessToken);
    const error = await manager.getToken('user-1').catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400 });
    const failedAt = clock.now();
    clock.jumpTo(failedAt + 999);
    await expect(manager.getToken('user-1')).rejects.toBe(error);
    clock.jumpTo(failedAt + 1_000);
    await manager.getToken('user-1');
    expect(server.requests).toHaveLength(8);
  });

  it('after invalid_client, cools the whole client down: other scopes get the error without a request', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    const cached = await manager.getToken('cached');
    server.failNext(1, { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed' } });
    const error = await manager.getToken('user-1').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'FLUX_TOKEN_ENDPOINT', status: 401, error: 'invalid_client' });

    await expect(manager.getToken('user-2')).rejects.toBe(error);
    await expect(manager.getToken()).rejects.toBe(error);
    await expect(manager.getToken('__proto__')).rejects.toBe(error);
    expect(await manager.getToken('cached')).toBe(cached); // a cached token is still served
    expect(server.requests).toHaveLength(2);
    expect(manager.stats().coolingDown).toBe(2); // user-1, and the client

    clock.advance(1_000);
    expect(scopeOfTestToken((await manager.getToken('user-2')).accessToken)).toBe('user-2');
    expect(scopeOfTestToken((await manager.getToken('user-1')).accessToken)).toBe('user-1');
    expect(server.requests).toHaveLength(4);
    expect(manager.stats().coolingDown).toBe(0);
  });

  it('with a wrong client secret, one request fails and the other scopes wait out the cool-down without asking', async () => {
    h = await startHarness({ clientSecret: 'not-the-secret' });
    const { server, manager } = h;
    const [first] = await rejections([manager.getToken('a')]);
    expect(first).toMatchObject({ status: 401, error: 'invalid_client' });
    const errors = await rejections(['b', 'c', undefined, 'a'].map((scope) => manager.getToken(scope)));
    for (const error of errors) expect(error).toBe(first);
    expect(server.requests).toHaveLength(1);
    // The secret never shows in what callers get.
    expect(JSON.stringify(first)).not.toContain('not-the-secret');
  });
});
