// What the endpoint client does for servers other than Flux: Basic client authentication, extra
// token parameters, a default lifetime, the ten-year cap on a JWS `exp`, and scope binding.
import { describe, expect, it } from '@jest/globals';
import { gzipSync } from 'node:zlib';
import { ConfigurationError, InvalidTokenResponseError, MAX_EXPIRES_IN_SECONDS } from '../lib/index.js';
import { CLIENT_ID, CLIENT_SECRET, T0, gzipJws, mockTokenEndpoint, testEndpoint, tokenBody } from './helpers/nock-token-endpoint.js';

const endpoint = testEndpoint;

const ok = { status: 200, body: tokenBody() };

function basicOf(header: string | string[] | undefined): { id: string; secret: string } {
  const decoded = Buffer.from(String(header).replace(/^Basic /, ''), 'base64').toString('utf8');
  const [id, secret] = decoded.split(':').map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
  return { id: id!, secret: secret! };
}

describe('clientAuth', () => {
  it('client_secret_post (the default) puts the credentials in the form and sends no Authorization header', async () => {
    const { requests } = mockTokenEndpoint(ok);
    await endpoint().clientCredentials({ scope: 'user-1' });
    expect(requests[0]!.form).toMatchObject({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
    expect(requests[0]!.headers.authorization).toBeUndefined();
  });

  it('client_secret_basic sends them form-urlencoded then base64 in Authorization, and never in the form', async () => {
    const { requests } = mockTokenEndpoint(ok);
    const id = 'client id:with/odd+chars';
    const secret = 'sec ret:%=+/';
    await endpoint({ clientAuth: 'client_secret_basic', clientId: id, clientSecret: secret }).clientCredentials({ scope: 'user-1' });
    const form = requests[0]!.form;
    expect(form).toEqual({ grant_type: 'client_credentials', scope: 'user-1' });
    expect(basicOf(requests[0]!.headers.authorization)).toEqual({ id, secret });
    // RFC 6749 §2.3.1: form-urlencoded first, so a ':' in the id cannot split it.
    expect(Buffer.from(String(requests[0]!.headers.authorization).slice(6), 'base64').toString()).toBe(
      'client+id%3Awith%2Fodd%2Bchars:sec+ret%3A%25%3D%2B%2F',
    );
  });

  it.each([
    ['client_secret_post', false],
    ['client_secret_basic', false],
    ['client_secret_post', true],
    ['client_secret_basic', true],
  ] as const)('refresh with %s and authenticate %s: credentials in one place or none', async (clientAuth, withCreds) => {
    const { requests } = mockTokenEndpoint(ok);
    await endpoint({ clientAuth }).refresh({ refreshToken: 'rt+1/==', authenticate: withCreds });
    const { form, headers } = requests[0]!;
    const inForm = 'client_id' in form || 'client_secret' in form;
    const inHeader = headers.authorization !== undefined;
    expect([inForm, inHeader]).toEqual(withCreds ? [clientAuth === 'client_secret_post', clientAuth === 'client_secret_basic'] : [false, false]);
    expect(form).toMatchObject({ grant_type: 'refresh_token', refresh_token: 'rt+1/==' });
  });

  it('a refresh with `authenticate: true` carries the credentials in the Basic header with client_secret_basic', async () => {
    const { requests } = mockTokenEndpoint(ok);
    await endpoint({ clientAuth: 'client_secret_basic' }).refresh({ refreshToken: 'rt', authenticate: true });
    expect(basicOf(requests[0]!.headers.authorization)).toEqual({ id: CLIENT_ID, secret: CLIENT_SECRET });
  });

  it('refuses an unknown method at construction, naming the option', () => {
    expect(() => endpoint({ clientAuth: 'private_key_jwt' as never })).toThrow(ConfigurationError);
    expect(() => endpoint({ clientAuth: 'private_key_jwt' as never })).toThrow(
      'Expected `clientAuth` to be one of `client_secret_post`, `client_secret_basic`, got `"private_key_jwt"` (string)',
    );
  });

  it('an error answer that echoes the Basic header does not carry it into the error', async () => {
    const e = endpoint({ clientAuth: 'client_secret_basic' });
    const header = Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64');
    mockTokenEndpoint({ status: 400, body: { error: 'invalid_request', error_description: `got Basic ${header}` } });
    const error = await e.clientCredentials().catch((err: unknown) => err);
    expect(JSON.stringify(error)).not.toContain(header);
    expect(String((error as Error).message)).not.toContain(header);
  });
});

describe('tokenParams', () => {
  it('are sent with both grants', async () => {
    const { requests } = mockTokenEndpoint(ok);
    const e = endpoint({ tokenParams: { audience: 'https://api.example', resource: 'urn:flux' } });
    await e.clientCredentials({ scope: 'user-1' });
    await e.refresh({ refreshToken: 'rt' });
    expect(requests[0]!.form).toMatchObject({ audience: 'https://api.example', resource: 'urn:flux', grant_type: 'client_credentials' });
    expect(requests[1]!.form).toMatchObject({ audience: 'https://api.example', resource: 'urn:flux', grant_type: 'refresh_token' });
  });

  it.each(['grant_type', 'client_id', 'client_secret', 'scope', 'refresh_token'])('refuses the reserved name %s', (name) => {
    expect(() => endpoint({ tokenParams: { [name]: 'x' } })).toThrow(ConfigurationError);
    expect(() => endpoint({ tokenParams: { [name]: 'x' } })).toThrow(`got \`${name}\``);
  });

  it.each([
    ['a non-string value', { audience: 42 }, 'Expected `tokenParams.audience` to be a string, got `42` (number)'],
    ['null', null, 'Expected `tokenParams` to be an options object, got `null`'],
    ['an array', ['audience'], 'Expected `tokenParams` to be an options object, got a value of type array'],
  ])('refuses %s', (_what, value, message) => {
    expect(() => endpoint({ tokenParams: value as never })).toThrow(message);
  });
});

describe('lifetimes', () => {
  it('defaultExpiresIn applies to an opaque token without expires_in', async () => {
    mockTokenEndpoint({ status: 200, body: tokenBody({ access_token: 'opaque', expires_in: undefined }) });
    const token = await endpoint({ defaultExpiresIn: 120 }).clientCredentials();
    expect(token).toMatchObject({ expiresIn: 120, expiresAt: T0 + 120_000 });
  });

  it('without it, that answer is still a typed no_expiry error', async () => {
    mockTokenEndpoint({ status: 200, body: tokenBody({ access_token: 'opaque', expires_in: undefined }) });
    const error = await endpoint().clientCredentials().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidTokenResponseError);
    expect(error).toMatchObject({ reason: 'no_expiry' });
  });

  it('expires_in and a readable exp both win over defaultExpiresIn', async () => {
    mockTokenEndpoint([
      { status: 200, body: tokenBody({ access_token: 'opaque', expires_in: 30 }) },
      { status: 200, body: tokenBody({ access_token: gzipJws({ exp: T0 / 1000 + 45 }), expires_in: undefined }) },
    ]);
    const e = endpoint({ defaultExpiresIn: 120 });
    expect((await e.clientCredentials()).expiresIn).toBe(30);
    expect((await e.clientCredentials()).expiresIn).toBe(45);
  });

  // The claim as the server wrote it: `1.8e308` parses to Infinity, `1.7e308` overflows once in ms.
  it.each(['1e300', '1.7e308', '1.8e308'])('caps a JWS exp of %s at ten years, finite', async (exp) => {
    const jws = [
      Buffer.from('{"alg":"RS256","zip":"GZIP"}').toString('base64url'),
      gzipSync(Buffer.from(`{"exp":${exp}}`)).toString('base64url'),
      'c2ln',
    ].join('.');
    mockTokenEndpoint({ status: 200, body: tokenBody({ access_token: jws, expires_in: undefined }) });
    const token = await endpoint().clientCredentials();
    expect(token.expiresIn).toBe(MAX_EXPIRES_IN_SECONDS);
    expect(token.expiresAt).toBe(T0 + MAX_EXPIRES_IN_SECONDS * 1000);
    expect(Number.isFinite(token.expiresAt)).toBe(true);
  });

  it.each([0, -1, MAX_EXPIRES_IN_SECONDS + 1, Number.NaN, '60'])('refuses defaultExpiresIn %p at construction', (value) => {
    expect(() => endpoint({ defaultExpiresIn: value as number })).toThrow(/Expected `defaultExpiresIn` to be a finite number/);
  });
});

describe('scope binding', () => {
  async function outcome(body: Record<string, unknown>, scope: string | undefined): Promise<unknown> {
    mockTokenEndpoint({ status: 200, body });
    return endpoint()
      .clientCredentials(scope === undefined ? {} : { scope })
      .then(
        (token) => token,
        (e: unknown) => e,
      );
  }

  it.each([
    ['a scope field without the user', { scope: 'user-2' }, 'user-1'],
    ['a scope field listing only others', { scope: 'read user-10 write' }, 'user-1'],
    ['a scope field that is not a string', { scope: ['user-1'] }, 'user-1'],
    ['restrictedTo another user', { access_token: gzipJws({ restrictedTo: 'user-2' }) }, 'user-1'],
    ['restrictedTo null for a user', { access_token: gzipJws({ restrictedTo: null }) }, 'user-1'],
    ['restrictedTo a user for the client-wide token', { access_token: gzipJws({ restrictedTo: 'user-1' }) }, undefined],
  ])('%s is scope_mismatch', async (_what, overrides, scope) => {
    const error = await outcome(tokenBody(overrides), scope);
    expect(error).toBeInstanceOf(InvalidTokenResponseError);
    expect(error).toMatchObject({ code: 'FLUX_INVALID_TOKEN_RESPONSE', reason: 'scope_mismatch', status: 200 });
  });

  it.each([
    ['a scope field that lists the user among others', { scope: 'read user-1 write' }, 'user-1'],
    ['restrictedTo the user', { access_token: gzipJws({ restrictedTo: 'user-1' }) }, 'user-1'],
    ['an opaque token and no scope field', { access_token: 'opaque' }, 'user-1'],
    ['restrictedTo null for the client-wide token', { access_token: gzipJws({ restrictedTo: null }) }, undefined],
    ['restrictedTo {} (as in Flux\'s sample) for the client-wide token', { access_token: gzipJws({ restrictedTo: {} }) }, undefined],
    ['a scope field on the client-wide token', { scope: 'read' }, undefined],
  ])('%s is accepted', async (_what, overrides, scope) => {
    const token = await outcome(tokenBody(overrides), scope);
    expect(token).toMatchObject({ accessToken: expect.any(String) });
  });

  it('a refresh that names no scope is not checked; `scope: null` asks for a client-wide token', async () => {
    const restricted = { status: 200, body: tokenBody({ access_token: gzipJws({ restrictedTo: 'user-2' }) }) };
    mockTokenEndpoint(restricted);
    await expect(endpoint().refresh({ refreshToken: 'rt' })).resolves.toMatchObject({ expiresIn: 3600 });
    const error = await endpoint().refresh({ refreshToken: 'rt', scope: null }).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'scope_mismatch' });
  });

  it('applies to the refresh grant too', async () => {
    mockTokenEndpoint({ status: 200, body: tokenBody({ access_token: gzipJws({ restrictedTo: 'user-2' }) }) });
    const error = await endpoint().refresh({ refreshToken: 'rt', scope: 'user-1' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'scope_mismatch' });
  });
});
