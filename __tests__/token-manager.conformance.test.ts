// The manager against the emulator's strict-server modes: a refresh that requires client
// authentication, a Basic-only client, scopes dropped or changed on refresh, opaque tokens without
// expires_in, and an API that rejects every token (a 401 loop). Time is a manual clock shared by
// the emulator and the manager; every count below is of requests that reached the emulator.
import { afterEach, describe, expect, it } from '@jest/globals';
import { startEmulator, type Emulator, type EmulatorOptions } from '../lib/emulator/index.js';
import { authFetch, TokenManager, type TokenManagerOptions } from '../lib/index.js';
import type { RefreshAuthenticationEvent, RefreshFailedEvent } from '../lib/manager/manager-events.js';
import { recordEvents, whenIdle } from './fixtures/manager-harness.js';
import { ManualClock } from './fixtures/manual-clock.js';
import { testSigningKey } from './helpers/signing-key.js';

let emulator: Emulator | undefined;
let manager: TokenManager | undefined;
afterEach(async () => {
  await manager?.close();
  await emulator?.close();
  manager = undefined;
  emulator = undefined;
});

async function start(emulatorOptions: EmulatorOptions, options: Partial<TokenManagerOptions> = {}) {
  const clock = new ManualClock();
  emulator = await startEmulator({ expiresIn: 100, now: clock.now, signingKey: testSigningKey(), ...emulatorOptions });
  manager = new TokenManager({
    tokenUrl: emulator.tokenUrl,
    clientId: emulator.clientId,
    clientSecret: emulator.clientSecret,
    ...options,
    request: { retry: 0, ...options.request },
    clock: { now: clock.now, timers: clock.timers, random: () => 0, ...options.clock },
  });
  return { clock, emulator, manager };
}

/** Uses the tokens of `users` (only used tokens are renewed), then advances into the refresh window and waits for the renewals. */
async function renewAll(clock: ManualClock, m: TokenManager, users: string[]): Promise<void> {
  for (const user of users) await m.getToken(user);
  clock.advance(80_000);
  await whenIdle(m);
}

/** Expects each token to be accepted by the emulator's API for its own user only. */
async function expectServes(e: Emulator, m: TokenManager, users: string[]): Promise<void> {
  for (const user of users) {
    const token = await m.getToken(user);
    const response = await fetch(`${e.url}/users/${user}/x`, { headers: { authorization: `Bearer ${token.accessToken}` } });
    expect(response.status).toBe(200);
  }
}

describe('a server that requires client authentication on refresh', () => {
  it.each(['invalid_client', 'invalid_request'] as const)(
    'answering %s: one fallback, one event, no client cool-down, and every later refresh authenticates',
    async (refusal) => {
      // One request at a time, so that the learning step is exactly one refusal; with more at once,
      // the refreshes already sent before the first refusal came back are refused too (see below).
      const { clock, emulator: e, manager: m } = await start(
        { refreshRequiresClientAuth: refusal, invalidClientStatus: 400 },
        { concurrency: 1 },
      );
      const learned = recordEvents(m, 'refreshAuthentication');
      const users = ['u1', 'u2', 'u3'];
      for (const user of users) await m.getToken(user);
      e.resetStats();

      await renewAll(clock, m, users);
      // u1 (first in line) was refused once and fell back; the others, renewed after it, already
      // sent the credentials with their refresh.
      let s = e.stats().tokenCalls;
      expect(s.byStatus['400']).toBe(1);
      expect(s.byGrant).toEqual({ client_credentials: 1, refresh_token: 3 });
      expect(learned).toHaveLength(1);
      expect((learned[0] as RefreshAuthenticationEvent).error).toMatchObject({ status: 400, error: refusal });
      expect(m.stats().coolingDown).toBe(0);
      await expectServes(e, m, users);

      // From now on: exactly one refresh per user, each accepted.
      e.resetStats();
      await renewAll(clock, m, users);
      s = e.stats().tokenCalls;
      expect(s.byGrant).toEqual({ client_credentials: 0, refresh_token: 3 });
      expect(s.byStatus).toEqual(Object.assign(Object.create(null), { '200': 3 }));
      expect(learned).toHaveLength(1);
    },
  );

  it.each([
    ['one after another', 1, 8, false],
    ['all at once, with concurrency 8', 8, 8, true],
    ['all at once, with concurrency 4', 4, 4, true],
  ])('what learning costs: 20 renewals %s cost %i refused refreshes, once', async (_what, refused, concurrency, together) => {
    const { clock, emulator: e, manager: m } = await start({ refreshRequiresClientAuth: 'invalid_client' }, { concurrency });
    const users = Array.from({ length: 20 }, (_, i) => `u${i}`);
    const renewAllNow = async (atOnce: boolean) => {
      clock.advance(100_000); // every token has expired: each getToken renews it
      if (atOnce) await Promise.all(users.map((user) => m.getToken(user)));
      else for (const user of users) await m.getToken(user);
    };
    await Promise.all(users.map((user) => m.getToken(user)));
    e.resetStats();
    // Each refresh sent before the first refusal came back is refused once, and replaced by a
    // client-credentials request: one at a time, that is one; at once, as many as run at once.
    await renewAllNow(together);
    expect(e.stats().tokenCalls).toMatchObject({
      total: users.length + refused,
      byGrant: { client_credentials: refused, refresh_token: users.length },
    });
    expect(e.stats().tokenCalls.byStatus['400']).toBe(refused);
    // Learned once, for good: the next round costs one accepted refresh per user.
    e.resetStats();
    await renewAllNow(true);
    expect(e.stats().tokenCalls).toMatchObject({ total: users.length, byGrant: { client_credentials: 0, refresh_token: users.length } });
    expect(e.stats().tokenCalls.byStatus['400']).toBeUndefined();
  });

  it('with refreshes in flight at once, each is refused at most once, and the event comes once', async () => {
    const { clock, emulator: e, manager: m } = await start({ refreshRequiresClientAuth: 'invalid_client' }, { concurrency: 4 });
    const learned = recordEvents(m, 'refreshAuthentication');
    const users = Array.from({ length: 12 }, (_, i) => `u${i}`);
    await Promise.all(users.map((user) => m.getToken(user)));
    e.resetStats();
    await renewAll(clock, m, users);
    const refused = e.stats().tokenCalls.byStatus['400'] ?? 0;
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(refused).toBeLessThanOrEqual(4);
    expect(e.stats().tokenCalls.byGrant).toEqual({ client_credentials: refused, refresh_token: users.length });
    expect(learned).toHaveLength(1);
    await expectServes(e, m, users);
  });

  it('a request that carried the credentials and got invalid_client does cool the client down', async () => {
    const { emulator: e, manager: m } = await start({}, { clientSecret: 'wrong' });
    const error = await m.getToken('u1').catch((err: unknown) => err);
    expect(error).toMatchObject({ status: 401, error: 'invalid_client' });
    // The whole client cools down: another user is refused without a request.
    const calls = e.stats().tokenCalls.total;
    await expect(m.getToken('u2')).rejects.toBe(error);
    expect(e.stats().tokenCalls.total).toBe(calls);
  });
});

describe('clientAuth: client_secret_basic', () => {
  it('works with a Basic-only server on both grants; the default post method is refused there', async () => {
    const { clock, emulator: e, manager: m } = await start(
      { clientAuthMethods: ['client_secret_basic'], refreshRequiresClientAuth: 'invalid_client' },
      { clientAuth: 'client_secret_basic' },
    );
    await m.getToken('u1');
    // The first refresh goes without credentials, is refused once, and falls back; the manager learns.
    await renewAll(clock, m, ['u1']);
    expect(e.stats().tokenCalls.byGrant).toEqual({ client_credentials: 2, refresh_token: 1 });
    expect(e.stats().tokenCalls.byStatus).toEqual(Object.assign(Object.create(null), { '200': 2, '400': 1 }));
    // From then on each refresh carries the credentials, in the Basic header, and is accepted.
    e.resetStats();
    await renewAll(clock, m, ['u1']);
    expect(e.stats().tokenCalls.byGrant).toEqual({ client_credentials: 0, refresh_token: 1 });
    expect(e.stats().tokenCalls.byStatus).toEqual(Object.assign(Object.create(null), { '200': 1 }));
    await expectServes(e, m, ['u1']);

    const post = new TokenManager({ tokenUrl: e.tokenUrl, clientId: e.clientId, clientSecret: e.clientSecret, request: { retry: 0 }, clock: { now: clock.now } });
    await expect(post.getToken('u2')).rejects.toMatchObject({ error: 'invalid_client' });
    await post.close();
  });
});

describe('scope binding on refresh', () => {
  it.each([
    ['changed to another user (restrictedTo)', { refreshScope: 'change' }],
    ['dropped (a client-wide token)', { refreshScope: 'drop' }],
    ['changed, with the scope echoed in the answer (opaque tokens)', { refreshScope: 'change', answerScope: 'echo', opaqueTokens: true }],
  ] as const)('%s: never cached or handed out; falls back once to client_credentials', async (_what, mode) => {
    const { clock, emulator: e, manager: m } = await start(mode);
    const failed = recordEvents(m, 'refreshFailed');
    const first = await m.getToken('u1');
    e.resetStats();
    await renewAll(clock, m, ['u1']);
    expect(e.stats().tokenCalls.byGrant).toEqual({ client_credentials: 1, refresh_token: 1 });
    expect(failed).toHaveLength(1);
    expect((failed[0] as RefreshFailedEvent).error).toMatchObject({ reason: 'scope_mismatch' });
    expect(failed[0]).toMatchObject({ grant: 'refresh_token', next: 'fallback' });
    const renewed = await m.getToken('u1');
    expect(renewed.accessToken).not.toBe(first.accessToken);
    await expectServes(e, m, ['u1']);
  });
});

describe('answers without expires_in', () => {
  it('opaque tokens live for defaultExpiresIn, and are renewed ahead of it', async () => {
    const { clock, emulator: e, manager: m } = await start({ omitExpiresIn: true, opaqueTokens: true }, { defaultExpiresIn: 100 });
    const token = await m.getToken('u1');
    expect(token.expiresIn).toBe(100);
    await expectServes(e, m, ['u1']);
    e.resetStats();
    await renewAll(clock, m, ['u1']);
    expect(e.stats().tokenCalls.byGrant).toEqual({ client_credentials: 0, refresh_token: 1 });
  });

  it('without defaultExpiresIn, an opaque token without expires_in is a typed no_expiry error', async () => {
    const { manager: m } = await start({ omitExpiresIn: true, opaqueTokens: true });
    await expect(m.getToken('u1')).rejects.toMatchObject({ code: 'FLUX_INVALID_TOKEN_RESPONSE', reason: 'no_expiry' });
  });

  it('a Flux JWS without expires_in lives until its exp', async () => {
    const { manager: m } = await start({ omitExpiresIn: true });
    expect((await m.getToken('u1')).expiresIn).toBe(100);
  });
});

describe('401 loop protection', () => {
  it('an API that rejects every token costs a bounded number of renewals, not one per request', async () => {
    const { clock, emulator: e, manager: m } = await start({}, { cooldown: { base: 1_000, max: 8_000 } });
    const fetchAs = authFetch(m, { scope: 'u1', allowedOrigins: [e.url] });
    await m.getToken('u1');
    e.setApiFault('401');
    e.resetStats();
    const REQUESTS = 200;
    let statuses = 0;
    for (let i = 0; i < REQUESTS; i++) {
      const response = await fetchAs(`${e.url}/users/u1/x`);
      statuses += response.status === 401 ? 1 : 0;
      clock.advance(100); // 20 s in all
    }
    expect(statuses).toBe(REQUESTS);
    const renewals = e.stats().tokenCalls.total;
    // The first 401 renews; its replacement's 401 starts a cool-down of 1, 2, 4, 8, 8 s... between
    // renewals: within 20 s, at most 1 + 5 renewals, where one per request would be 200.
    expect(renewals).toBeGreaterThanOrEqual(2);
    expect(renewals).toBeLessThanOrEqual(6);
  });

  it('a replacement rejected later than a cool-down step after it was obtained is renewed at once', async () => {
    const { clock, emulator: e, manager: m } = await start({});
    const fetchAs = authFetch(m, { scope: 'u1', allowedOrigins: [e.url] });
    await m.getToken('u1');
    e.setApiFault('401', { count: 1 });
    expect((await fetchAs(`${e.url}/users/u1/x`)).status).toBe(200);
    e.resetStats();
    clock.advance(1_000);
    e.setApiFault('401', { count: 1 });
    expect((await fetchAs(`${e.url}/users/u1/x`)).status).toBe(200);
    expect(e.stats().tokenCalls.total).toBe(1);
  });

  it('a working replacement keeps working: a 401 storm on one token costs one renewal', async () => {
    const { emulator: e, manager: m } = await start({});
    const fetchAs = authFetch(m, { scope: 'u1', allowedOrigins: [e.url] });
    await m.getToken('u1');
    e.setApiFault('401', { count: 1 });
    e.resetStats();
    for (let i = 0; i < 20; i++) expect((await fetchAs(`${e.url}/users/u1/x`)).status).toBe(200);
    expect(e.stats().tokenCalls.total).toBe(1);
  });
});

describe('the options for other servers, on the manager', () => {
  it.each([
    [{ clientAuth: 'basic' }, 'clientAuth', 'Expected `clientAuth` to be one of `client_secret_post`, `client_secret_basic`, got `"basic"` (string)'],
    [{ tokenParams: { scope: 'x' } }, 'tokenParams', 'got `scope`'],
    [{ tokenParams: 'audience=x' }, 'tokenParams', 'Expected `tokenParams` to be an options object, got `"audience=x"` (string)'],
    [{ defaultExpiresIn: -5 }, 'defaultExpiresIn', 'Expected `defaultExpiresIn` to be a finite number'],
  ])('%p is refused at construction with a ConfigurationError naming %s', (options, option, message) => {
    const create = () => new TokenManager({ clientId: 'c', clientSecret: 's', ...(options as Partial<TokenManagerOptions>) });
    expect(create).toThrow(message);
    try {
      create();
    } catch (error) {
      expect(error).toMatchObject({ code: 'FLUX_CONFIG_INVALID', option });
    }
  });
});
