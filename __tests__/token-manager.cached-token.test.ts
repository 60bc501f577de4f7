/**
 * `cachedToken`: what `getToken` would answer at once from the cache, handed out synchronously, or
 * undefined with nothing requested. A hit is a hit of `getToken` (counted, and it starts the
 * refresh ahead of expiry); bad input and a closed manager fail as `getToken` fails.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { InvalidArgumentError, TokenManagerClosedError } from '../lib/shared/errors.js';
import { nextEvent, startHarness, type Harness } from './fixtures/manager-harness.js';

describe('cachedToken', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('hands out the cached token itself, counted as a hit, with no request', async () => {
    h = await startHarness();
    const { server, manager } = h;
    const first = await manager.getToken('user-1');
    const before = manager.stats();

    expect(manager.cachedToken('user-1')).toBe(first);
    expect(manager.cachedToken('user-1')).toBe(first);
    expect(manager.stats()).toMatchObject({ hits: before.hits + 2, misses: before.misses, inFlight: 0 });
    expect(server.requests).toHaveLength(1);
  });

  it('answers undefined on a miss and requests nothing: no token yet, another user, or a token past its margin', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    expect(manager.cachedToken('user-1')).toBeUndefined();
    expect(manager.cachedToken()).toBeUndefined();
    expect(server.requests).toHaveLength(0);
    expect(manager.stats()).toMatchObject({ hits: 0, misses: 0, joined: 0, inFlight: 0 });

    const first = await manager.getToken('user-1');
    expect(manager.cachedToken('user-2')).toBeUndefined();
    clock.jumpTo(first.expiresAt);
    expect(manager.cachedToken('user-1')).toBeUndefined();
    expect(manager.stats()).toMatchObject({ inFlight: 0, misses: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it('in the refresh window it still hands out the token, and starts one refresh ahead of expiry, as getToken does', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    const first = await manager.getToken('user-1');

    server.hold();
    clock.jumpTo(first.expiresAt - 300_000); // the window opens (no jitter drawn); the timer is late
    for (let i = 0; i < 10; i++) expect(manager.cachedToken('user-1')).toBe(first);
    await server.waitForRequests(2);
    expect(manager.stats()).toMatchObject({ backgroundRefreshes: 1, inFlight: 1, hits: 10 });
    expect(server.requests[1]!.form).toEqual({ grant_type: 'refresh_token', refresh_token: first.refreshToken });

    const renewed = nextEvent(manager, 'token');
    server.release();
    expect(await renewed).toMatchObject({ scope: 'user-1', grant: 'refresh_token', background: true });
    const second = manager.cachedToken('user-1');
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(server.requests).toHaveLength(2);
  });

  it('answers undefined for an invalidated token, and starts nothing: the next getToken renews it', async () => {
    h = await startHarness();
    const { server, manager } = h;
    const first = await manager.getToken('user-1');
    expect(manager.invalidate('user-1', first)).toBe(true);

    expect(manager.cachedToken('user-1')).toBeUndefined();
    expect(manager.stats().inFlight).toBe(0);
    expect(server.requests).toHaveLength(1);

    const second = await manager.getToken('user-1');
    expect(second).not.toBe(first);
    expect(manager.cachedToken('user-1')).toBe(second);
    expect(server.requests).toHaveLength(2);
  });

  it('throws TokenManagerClosedError after close, as getToken rejects with it', async () => {
    h = await startHarness();
    const { manager } = h;
    await manager.getToken('user-1');
    await manager.close();

    expect(() => manager.cachedToken('user-1')).toThrow(TokenManagerClosedError);
    await expect(manager.getToken('user-1')).rejects.toBeInstanceOf(TokenManagerClosedError);
  });

  it.each([
    ['an empty string', ''],
    ['a lone surrogate', 'user-\uD800'],
    ['a number', 42],
  ])('throws for a scope that is %s: the InvalidArgumentError getToken rejects with, and requests nothing', async (_, scope) => {
    h = await startHarness();
    const { server, manager } = h;
    const rejected = await manager.getToken(scope as string).catch((e: unknown) => e);

    let thrown: unknown;
    try {
      manager.cachedToken(scope as string);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidArgumentError);
    expect(thrown).toMatchObject({ code: (rejected as InvalidArgumentError).code, message: (rejected as Error).message });
    expect(server.requests).toHaveLength(0);
  });
});
