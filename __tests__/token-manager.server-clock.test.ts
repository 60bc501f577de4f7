/**
 * A token server whose clock is off. The manager learns the offset from the `Date` header of the
 * server's answers, reads a JWS's lifetime as `exp − iat` when it has both (else `exp` against the
 * server's clock), and reads a `Retry-After` date against the server's `Date`.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { TokenEndpoint } from '../lib/endpoint/token-endpoint.js';
import { startEmulator } from '../lib/emulator/index.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import { ManualClock } from './fixtures/manual-clock.js';
import { startHarness, type Harness } from './fixtures/manager-harness.js';
import { gzipJws } from './helpers/nock-token-endpoint.js';

const HOUR = 3_600_000;

/** A 200 answer from a server whose clock reads `serverNow`, with a JWS and no `expires_in`. */
function jwsAnswer(serverNow: number, claims: Record<string, unknown>) {
  return {
    status: 200,
    headers: { date: new Date(serverNow).toUTCString() },
    body: { access_token: gzipJws({ restrictedTo: 'user-1', ...claims }), token_type: 'bearer' },
  };
}

describe('a token server whose clock is off', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('1 h behind, a JWS with iat and exp of 2 s: the token lives 2 s, and the offset shows in stats()', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    const serverNow = clock.now() - HOUR;
    server.failNext(1, jwsAnswer(serverNow, { iat: serverNow / 1000, exp: serverNow / 1000 + 2 }));
    const token = await manager.getToken('user-1');
    expect(token.expiresIn).toBe(2);
    expect(token.expiresAt).toBe(clock.now() + 2_000);
    // The Date header has a resolution of one second.
    expect(Math.abs(manager.stats().clockOffsetMs + HOUR)).toBeLessThanOrEqual(1_000);
  });

  it('1 h ahead, a JWS with exp only: its lifetime is read against the server\'s clock, not ours', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    const serverNow = clock.now() + HOUR;
    server.failNext(1, jwsAnswer(serverNow, { exp: serverNow / 1000 + 2 }));
    const token = await manager.getToken('user-1');
    expect(Math.abs(token.expiresIn - 2)).toBeLessThanOrEqual(1);
  });

  it('1 h ahead, a Retry-After date is read against the server\'s Date: 3 s, not the 60 s cap', async () => {
    h = await startHarness();
    const { server, clock } = h;
    const serverNow = clock.now() + HOUR;
    server.failNext(1, {
      status: 503,
      headers: { date: new Date(serverNow).toUTCString(), 'retry-after': new Date(serverNow + 3_000).toUTCString() },
      body: { error: 'temporarily_unavailable' },
    });
    const endpoint = new TokenEndpoint({ clientId: 'client-1', clientSecret: 'secret-1', tokenUrl: server.tokenUrl, request: { retry: 0 }, clock: { now: clock.now } });
    await expect(endpoint.clientCredentials({ scope: 'user-1' })).rejects.toMatchObject({ status: 503, retryAfterMs: 3_000 });
  });

  it('a server in step with ours, to the Date header\'s second, shows an offset of 0', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    server.failNext(1, jwsAnswer(clock.now(), { iat: clock.now() / 1000, exp: clock.now() / 1000 + 60 }));
    expect((await manager.getToken('user-1')).expiresIn).toBe(60);
    expect(manager.stats().clockOffsetMs).toBe(0);
  });
});

describe('against the emulator with its clock off and no expires_in', () => {
  it.each([-HOUR, HOUR])('offset %i ms: every user gets a token that lives about its 2 s', async (clockOffset) => {
    const clock = new ManualClock();
    const emulator = await startEmulator({ now: clock.now, clockOffset, omitExpiresIn: true, expiresIn: 2 });
    const manager = new TokenManager({
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
      tokenUrl: emulator.tokenUrl,
      request: { retry: 0 },
      clock: { now: clock.now, timers: clock.timers },
    });
    try {
      const tokens = await Promise.all(['u1', 'u2', 'u3'].map((u) => manager.getToken(u)));
      for (const token of tokens) expect(Math.abs(token.expiresIn - 2)).toBeLessThanOrEqual(1);
      expect(Math.abs(manager.stats().clockOffsetMs - clockOffset)).toBeLessThanOrEqual(1_000);
    } finally {
      await manager.close();
      await emulator.close();
    }
  });
});
