// The emulator's strict-server modes, on the wire: what a client sees from a Basic-only server, one
// that requires client authentication on refresh, and one that echoes, drops or changes scopes.
import { afterEach, describe, expect, it } from '@jest/globals';
import { decodeJws } from '../lib/index.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../lib/emulator/index.js';
import { clientCredentials } from './helpers/emulator-http.js';
import { testSigningKey } from './helpers/signing-key.js';

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function start(options: EmulatorOptions): Promise<Emulator> {
  emulator = await startEmulator({ signingKey: testSigningKey(), ...options });
  return emulator;
}

async function post(e: Emulator, form: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await fetch(e.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

function basic(id: string, secret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}` };
}

describe('client authentication methods', () => {
  it('a Basic-only client is refused in the form body, accepted with Basic', async () => {
    const e = await start({ clientAuthMethods: ['client_secret_basic'] });
    expect(await post(e, clientCredentials(e))).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
    const ok = await post(e, { grant_type: 'client_credentials', scope: 'u1' }, basic(e.clientId, e.clientSecret));
    expect(ok.status).toBe(200);
  });

  it('credentials in both places are refused with invalid_request (RFC 6749 §2.3)', async () => {
    const e = await start({});
    const answer = await post(e, clientCredentials(e), basic(e.clientId, e.clientSecret));
    expect(answer).toMatchObject({ status: 400, json: { error: 'invalid_request' } });
  });

  it('invalidClientStatus: 400 answers a bad secret with 400 invalid_client', async () => {
    const e = await start({ invalidClientStatus: 400 });
    expect(await post(e, clientCredentials(e, { client_secret: 'wrong' }))).toMatchObject({
      status: 400,
      json: { error: 'invalid_client' },
    });
  });
});

describe('refreshRequiresClientAuth', () => {
  it.each(['invalid_client', 'invalid_request'] as const)('refuses a refresh without credentials with 400 %s', async (error) => {
    const e = await start({ refreshRequiresClientAuth: error });
    const first = await post(e, clientCredentials(e, { scope: 'u1' }));
    const refreshToken = first.json.refresh_token as string;
    expect(await post(e, { grant_type: 'refresh_token', refresh_token: refreshToken })).toMatchObject({ status: 400, json: { error } });
    // The refused request spent nothing: with the credentials, the same refresh token works.
    const ok = await post(e, { grant_type: 'refresh_token', refresh_token: refreshToken }, basic(e.clientId, e.clientSecret));
    expect(ok.status).toBe(200);
  });
});

describe('scopes, lifetimes and token shapes', () => {
  async function refreshOnce(options: EmulatorOptions) {
    const e = await start(options);
    const first = await post(e, clientCredentials(e, { scope: 'u1' }));
    const second = await post(e, { grant_type: 'refresh_token', refresh_token: first.json.refresh_token as string });
    return { first: first.json, second: second.json };
  }

  it('answerScope echo puts the user id in `scope`', async () => {
    const { first, second } = await refreshOnce({ answerScope: 'echo' });
    expect([first.scope, second.scope]).toEqual(['u1', 'u1']);
  });

  it.each([
    ['keep', 'u1'],
    // Dropped: a client-wide token, whose claim is `{}` as in Flux's own sample token.
    ['drop', {}],
    ['change', 'u1-other'],
  ] as const)('refreshScope %s: the refreshed token is restricted to %p', async (refreshScope, restrictedTo) => {
    const { first, second } = await refreshOnce({ refreshScope });
    expect(decodeJws(first.access_token as string).claims.restrictedTo).toBe('u1');
    expect(decodeJws(second.access_token as string).claims.restrictedTo).toEqual(restrictedTo);
  });

  it('omitExpiresIn and opaqueTokens: no expires_in, and a token with no readable claims that the API accepts', async () => {
    const e = await start({ omitExpiresIn: true, opaqueTokens: true });
    const { json } = await post(e, clientCredentials(e, { scope: 'u1' }));
    expect(json).not.toHaveProperty('expires_in');
    expect(() => decodeJws(json.access_token as string)).toThrow();
    const headers = { authorization: `Bearer ${json.access_token as string}` };
    expect((await fetch(`${e.url}/users/u1/x`, { headers })).status).toBe(200);
    expect((await fetch(`${e.url}/users/u2/x`, { headers })).status).toBe(401);
  });

  it.each([
    [{ clientAuthMethods: [] }, 'clientAuthMethods'],
    [{ refreshRequiresClientAuth: 'yes' }, 'refreshRequiresClientAuth'],
    [{ invalidClientStatus: 403 }, 'invalidClientStatus'],
    [{ refreshScope: 'swap' }, 'refreshScope'],
    [{ answerScope: true }, 'answerScope'],
    [{ opaqueTokens: 'yes' }, 'opaqueTokens'],
  ])('refuses %p, naming the option', async (options, option) => {
    await expect(startEmulator(options as never)).rejects.toMatchObject({ code: 'FLUX_CONFIG_INVALID', option });
  });
});

describe('servers that refuse or keep time differently', () => {
  it.each([200, 403] as const)('refusalStatus: %i answers every refusal with that status and its RFC 6749 error', async (status) => {
    const e = await start({ refusalStatus: status });
    expect(await post(e, { grant_type: 'refresh_token', refresh_token: 'unknown' })).toEqual({
      status,
      json: expect.objectContaining({ error: 'invalid_grant' }),
    });
    expect(await post(e, { ...clientCredentials(e), client_secret: 'wrong' })).toMatchObject({ status, json: { error: 'invalid_client' } });
    expect((await post(e, clientCredentials(e))).status).toBe(200);
  });

  it('clockOffset: the Date header and the token\'s nbf and exp follow the offset clock', async () => {
    const t = Date.UTC(2031, 0, 1);
    const e = await start({ now: () => t, clockOffset: -3_600_000, omitExpiresIn: true, expiresIn: 2 });
    const response = await fetch(e.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(clientCredentials(e)).toString(),
    });
    expect(response.headers.get('date')).toBe(new Date(t - 3_600_000).toUTCString());
    const json = (await response.json()) as Record<string, unknown>;
    expect(json.expires_in).toBeUndefined();
    const { claims } = decodeJws(json.access_token as string);
    expect(claims).toMatchObject({ nbf: (t - 3_600_000) / 1000, exp: (t - 3_600_000) / 1000 + 2 });
  });

  it('refuses a bad clockOffset or refusalStatus, naming the option', async () => {
    await expect(startEmulator({ clockOffset: Number.NaN })).rejects.toThrow(/`clockOffset`/);
    await expect(startEmulator({ refusalStatus: 500 as unknown as 200 })).rejects.toThrow(/`refusalStatus` to be 200, 400, 401 or 403, got `500`/);
  });
});
