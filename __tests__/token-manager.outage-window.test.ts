// An outage of the token endpoint that starts just before a token's refresh window and ends before
// its margin: the failed background renewals are retried often enough that one lands after the
// outage and before the margin, so no caller ever waits. Time is the injected manual clock; each
// request completes before the clock moves on, so every instant below is exact.
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { MANAGED, TokenEndpoint, type WithManagedHooks } from '../lib/endpoint/token-endpoint.js';
import type { RefreshFailedEvent } from '../lib/manager/manager-events.js';
import { hasSettled, recordEvents, startHarness, whenIdle, type Harness } from './fixtures/manager-harness.js';
import { scopeOfTestToken } from './helpers/scripted-token-server.js';

const UNAVAILABLE = { status: 503, body: { error: 'temporarily_unavailable' } };
/** Checks a caller at least this often, in ms of the manual clock. */
const CALLER_EVERY_MS = 50;

describe('an outage inside the refresh window', () => {
  let h: Harness;
  afterEach(async () => {
    jest.restoreAllMocks();
    await h.stop();
  });

  it('8 s tokens, 1.2 s outage from just before the window to just before the margin: no caller waits, retries fit the time left', async () => {
    h = await startHarness({}, { expiresIn: 8 });
    const { server, clock, manager } = h;
    const first = await manager.getToken('user-1');
    const t0 = first.issuedAt;
    // 8 s tokens: the window opens 2 s before expiry (25% of the lifetime, no jitter drawn here),
    // and the token is served until 0.8 s before expiry (10%).
    const refreshAt = t0 + 6_000;
    const usableUntil = t0 + 7_200;
    const outage = { from: t0 + 5_900, to: t0 + 7_100 };
    const failures: (RefreshFailedEvent & { at: number })[] = [];
    manager.on('refreshFailed', (event) => failures.push({ ...event, at: clock.now() }));
    const renewed = recordEvents(manager, 'token');
    const waited: number[] = [];

    let outageStarted = false;
    let outageEnded = false;
    while (clock.now() < t0 + 9_000) {
      // Step to the next timer, the next caller or an edge of the outage, whichever comes first.
      const marks = [clock.now() + CALLER_EVERY_MS, clock.nextTimerAt ?? Infinity];
      if (!outageStarted) marks.push(outage.from);
      if (!outageEnded) marks.push(outage.to);
      clock.advanceTo(Math.min(...marks.filter((at) => at > clock.now())));
      if (!outageStarted && clock.now() >= outage.from) {
        server.failNext(1_000, UNAVAILABLE);
        outageStarted = true;
      }
      if (!outageEnded && clock.now() >= outage.to) {
        server.endFailures();
        outageEnded = true;
      }
      await whenIdle(manager);
      const call = manager.getToken('user-1');
      if (!(await hasSettled(call))) waited.push(clock.now() - t0);
      expect(scopeOfTestToken((await call).accessToken)).toBe('user-1');
    }

    expect(waited).toEqual([]);
    // Every failed try was a background renewal, and each next try was set before the margin,
    // no later than halfway to it (not sooner than 100 ms).
    expect(failures.length).toBeGreaterThanOrEqual(3);
    for (const event of failures) {
      expect(event).toMatchObject({ scope: 'user-1', background: true, next: 'retry' });
      expect(event.at).toBeGreaterThanOrEqual(refreshAt);
      expect(event.at).toBeLessThan(outage.to);
      expect(event.retryAt!).toBeLessThan(usableUntil);
      expect(event.retryAt! - event.at).toBeLessThanOrEqual(Math.max(100, (usableUntil - event.at) / 2));
    }
    // The first try after the outage renewed the token, before the margin.
    expect(renewed[0]).toMatchObject({ scope: 'user-1', grant: 'refresh_token', background: true });
    expect(server.requests).toHaveLength(1 + failures.length + renewed.length);
    const renewal = failures.at(-1)!.retryAt!;
    expect(renewal).toBeGreaterThanOrEqual(outage.to);
    expect(renewal).toBeLessThan(usableUntil);
    expect(manager.stats()).toMatchObject({ failures: failures.length, misses: 1, coolingDown: 0 });
  });

  it("asks the endpoint to fit its own retries before the margin in the background, and not once a caller waits", async () => {
    const refresh = jest.spyOn(TokenEndpoint.prototype, 'refresh');
    h = await startHarness({}, { expiresIn: 8 });
    const { clock, manager } = h;
    const first = await manager.getToken('user-1');
    await manager.getToken('user-1'); // used: worth renewing

    clock.advanceTo(first.issuedAt + 6_000); // the window opens: a background renewal
    await whenIdle(manager);
    const second = await manager.getToken('user-1');
    expect(second).not.toBe(first);
    clock.jumpTo(second.expiresAt); // expired: the caller waits for this renewal
    await manager.getToken('user-1');

    const retryBys = refresh.mock.calls.map(([options]) => (options as WithManagedHooks)[MANAGED]?.retryBy);
    expect(retryBys).toEqual([first.expiresAt - 800, undefined]);
  });
});
