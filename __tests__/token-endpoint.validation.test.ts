// The strict reading of the token endpoint's answer: every malformed success answer is an
// InvalidTokenResponseError with its own `reason`, and a good one becomes a Token whose times come
// from the injected clock at the moment the request was sent.
import { describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import got from 'got';
import nock from 'nock';
import {
  FluxTokenError,
  InvalidTokenResponseError,
  MAX_RESPONSE_BYTES,
  TokenEndpoint,
  TokenEndpointError,
  type Token,
} from '../lib/index.js';
import { SEED_ACCESS_TOKEN } from './helpers/seed.js';
import { CLIENT_ID, CLIENT_SECRET, ORIGIN, PATH, T0, gzipJws, mockTokenEndpoint, tokenBody, type Answer } from './helpers/nock-token-endpoint.js';

/** An endpoint without retries, whose clock reads `clock.now`. */
function endpoint(clock = { now: T0 }): TokenEndpoint {
  return new TokenEndpoint({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, request: { retry: 0 }, clock: { now: () => clock.now } });
}

async function tokenFrom(answer: Answer): Promise<Token> {
  mockTokenEndpoint(answer);
  return endpoint().clientCredentials({ scope: 'user-42' });
}

async function errorFrom(answer: Answer): Promise<unknown> {
  const { requests } = mockTokenEndpoint(answer);
  const error = await endpoint()
    .clientCredentials({ scope: 'user-42' })
    .then(
      () => new Error('expected a rejection'),
      (e: unknown) => e,
    );
  expect(requests).toHaveLength(1);
  return error;
}

function json(body: Record<string, unknown>): Answer {
  return { status: 200, body };
}

describe('a valid answer', () => {
  it('becomes a Token with issuedAt = the clock at send and expiresAt = issuedAt + expires_in seconds', async () => {
    const clock = { now: T0 };
    // The clock moves on while the server thinks: issuedAt must stay at the time of sending.
    mockTokenEndpoint(json(tokenBody({ expires_in: 1800 })), { onRequest: () => (clock.now = T0 + 5_000) });

    const token = await endpoint(clock).clientCredentials();

    expect(clock.now).toBe(T0 + 5_000);
    expect(token.issuedAt).toBe(T0);
    expect(token.expiresIn).toBe(1800);
    expect(token.expiresAt).toBe(T0 + 1800 * 1000);
  });

  it.each(['Bearer', 'BEARER', 'bEaReR'])('accepts token_type %s (case-insensitive) and reports it as bearer', async (type) => {
    const token = await tokenFrom(json(tokenBody({ token_type: type })));
    expect(token.tokenType).toBe('bearer');
  });

  it('accepts a body that starts with a UTF-8 byte-order mark, as some servers on Windows send it', async () => {
    const body = `\uFEFF${JSON.stringify(tokenBody())}`;
    const token = await tokenFrom({ status: 200, body, headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(token).toMatchObject({ tokenType: 'bearer', expiresIn: 3600, refreshToken: 'rt+new/rotated==' });
  });

  it('reads the RFC 6749 error of an error answer that starts with a byte-order mark', async () => {
    const body = `\uFEFF${JSON.stringify({ error: 'invalid_client', error_description: 'unknown client' })}`;
    const error = await errorFrom({ status: 401, body, headers: { 'content-type': 'application/json' } });
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ status: 401, error: 'invalid_client', errorDescription: 'unknown client' });
  });

  describe('a server that leaves out token_type', () => {
    const body = JSON.stringify(tokenBody({ token_type: undefined }));

    it('is refused by default: reason invalid_token_type', async () => {
      const error = await errorFrom({ status: 200, body, headers: { 'content-type': 'application/json' } });
      expect(error).toMatchObject({ reason: 'invalid_token_type', message: expect.stringContaining('got a value of type undefined') });
    });

    it('works with a got instance whose afterResponse hook adds it, as docs/other-servers.md shows', async () => {
      const { requests } = mockTokenEndpoint({ status: 200, body, headers: { 'content-type': 'application/json' } });
      const addTokenType = got.extend({
        hooks: {
          afterResponse: [
            (response) => {
              const answer = JSON.parse(response.body as string) as Record<string, unknown>;
              if (response.statusCode === 200 && answer.token_type === undefined) response.body = JSON.stringify({ ...answer, token_type: 'bearer' });
              return response;
            },
          ],
        },
      });
      const token = await new TokenEndpoint({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, request: { retry: 0, got: addTokenType }, clock: { now: () => T0 } }).clientCredentials({ scope: 'user-42' });
      expect(token).toMatchObject({ tokenType: 'bearer', expiresIn: 3600 });
      expect(requests).toHaveLength(1);
    });
  });

  it('accepts a numeric string expires_in ("3600")', async () => {
    const token = await tokenFrom(json(tokenBody({ expires_in: '3600' })));
    expect(token.expiresIn).toBe(3600);
    expect(token.expiresAt).toBe(T0 + 3600_000);
  });

  it('accepts a body just under the 1 MiB cap', async () => {
    const filler = 'a'.repeat(MAX_RESPONSE_BYTES - 200);
    const token = await tokenFrom(json(tokenBody({ access_token: filler })));
    expect(token.accessToken).toBe(filler);
  });
});

describe('expiry from the access token when expires_in is missing', () => {
  it('falls back to the exp claim of a gzip JWS', async () => {
    const exp = T0 / 1000 + 1234;
    const token = await tokenFrom(json(tokenBody({ expires_in: undefined, access_token: gzipJws({ exp, iss: 'tryflux.com' }) })));

    expect(token.expiresIn).toBe(1234);
    expect(token.issuedAt).toBe(T0);
    expect(token.expiresAt).toBe(exp * 1000);
  });

  it('reads the seed token: exp - nbf is 3600 when the clock is at nbf', async () => {
    const nbf = 1510490272 - 3600;
    mockTokenEndpoint(json({ access_token: SEED_ACCESS_TOKEN, token_type: 'bearer' }));

    const token = await endpoint({ now: nbf * 1000 }).clientCredentials();

    expect(token.expiresIn).toBe(3600);
    expect(token.expiresAt).toBe(1510490272 * 1000);
  });

  it.each([
    ['an opaque (non-JWS) access token', 'opaque-access-token'],
    ['a JWS without exp', gzipJws({ iss: 'tryflux.com' })],
    ['a JWS whose exp is not a number', gzipJws({ exp: 'tomorrow' })],
    ['a JWS whose exp has passed (the seed token, from 2017)', SEED_ACCESS_TOKEN],
  ])('rejects an answer with no expires_in and %s: reason no_expiry', async (_what, accessToken) => {
    const error = await errorFrom(json(tokenBody({ expires_in: undefined, access_token: accessToken })));

    expect(error).toBeInstanceOf(InvalidTokenResponseError);
    expect(error).toMatchObject({ code: 'FLUX_INVALID_TOKEN_RESPONSE', reason: 'no_expiry', status: 200 });
  });
});

describe('malformed answers', () => {
  const cases: Array<[string, Answer, string]> = [
    ['access_token missing', json(tokenBody({ access_token: undefined })), 'invalid_access_token'],
    ['access_token empty', json(tokenBody({ access_token: '' })), 'invalid_access_token'],
    ['access_token a number', json(tokenBody({ access_token: 12345 })), 'invalid_access_token'],
    ['access_token null', json(tokenBody({ access_token: null })), 'invalid_access_token'],
    ['token_type mac', json(tokenBody({ token_type: 'mac' })), 'invalid_token_type'],
    ['token_type missing', json(tokenBody({ token_type: undefined })), 'invalid_token_type'],
    ['token_type a number', json(tokenBody({ token_type: 1 })), 'invalid_token_type'],
    ['expires_in 0', json(tokenBody({ expires_in: 0 })), 'invalid_expires_in'],
    ['expires_in negative', json(tokenBody({ expires_in: -60 })), 'invalid_expires_in'],
    ['expires_in "NaN"', json(tokenBody({ expires_in: 'NaN' })), 'invalid_expires_in'],
    ['expires_in "soon"', json(tokenBody({ expires_in: 'soon' })), 'invalid_expires_in'],
    ['expires_in huge (1e12 s)', json(tokenBody({ expires_in: 1e12 })), 'invalid_expires_in'],
    [
      'expires_in 1e400 (Infinity once parsed)',
      { status: 200, body: '{"access_token":"at","token_type":"bearer","expires_in":1e400}', headers: { 'content-type': 'application/json' } },
      'invalid_expires_in',
    ],
    ['expires_in a boolean', json(tokenBody({ expires_in: true })), 'invalid_expires_in'],
    ['expires_in an object', json(tokenBody({ expires_in: { seconds: 3600 } })), 'invalid_expires_in'],
    ['refresh_token empty', json(tokenBody({ refresh_token: '' })), 'invalid_refresh_token'],
    ['refresh_token a number', json(tokenBody({ refresh_token: 42 })), 'invalid_refresh_token'],
    ['refresh_token an object', json(tokenBody({ refresh_token: { value: 'x' } })), 'invalid_refresh_token'],
    ['a JSON array', { status: 200, body: [tokenBody()] }, 'not_an_object'],
    ['JSON null', { status: 200, body: 'null', headers: { 'content-type': 'application/json' } }, 'not_an_object'],
    ['a JSON string', { status: 200, body: '"token"', headers: { 'content-type': 'application/json' } }, 'not_an_object'],
    ['an HTML page', { status: 200, body: '<html><body><h1>502 Bad Gateway</h1></body></html>' }, 'not_json'],
    ['an empty body', { status: 200, body: '', headers: { 'content-type': 'application/json' } }, 'not_json'],
    ['truncated JSON', { status: 200, body: '{"access_token":"at","tok', headers: { 'content-type': 'application/json' } }, 'not_json'],
  ];

  it.each(cases)('rejects %s as InvalidTokenResponseError', async (_what, answer, reason) => {
    const error = await errorFrom(answer);

    expect(error).toBeInstanceOf(InvalidTokenResponseError);
    expect(error).toBeInstanceOf(FluxTokenError);
    expect(error).toMatchObject({ code: 'FLUX_INVALID_TOKEN_RESPONSE', reason, status: 200 });
  });

  it('rejects a body over 1 MiB: reason body_too_large', async () => {
    const error = await errorFrom(json(tokenBody({ access_token: 'a'.repeat(MAX_RESPONSE_BYTES + 1) })));

    expect(error).toBeInstanceOf(InvalidTokenResponseError);
    expect(error).toMatchObject({ code: 'FLUX_INVALID_TOKEN_RESPONSE', reason: 'body_too_large' });
  });

  it('rejects a body over 1 MiB streamed without a content-length: reason body_too_large', async () => {
    const chunk = 'x'.repeat(64 * 1024);
    let received = 0;
    const scope = nock(ORIGIN)
      .post(PATH)
      .reply(200, () => Readable.from(Array.from({ length: 24 }, () => chunk)), { 'content-type': 'application/json' });
    scope.on('request', () => (received += 1));

    const error = await endpoint()
      .clientCredentials()
      .catch((e: unknown) => e);

    expect(received).toBe(1);
    expect(error).toBeInstanceOf(InvalidTokenResponseError);
    expect(error).toMatchObject({ code: 'FLUX_INVALID_TOKEN_RESPONSE', reason: 'body_too_large' });
  });

  it('turns a 200 whose body holds an RFC 6749 error into a TokenEndpointError with its fields', async () => {
    const error = await errorFrom(
      json({ error: 'invalid_grant', error_description: 'The refresh token has expired', error_uri: 'https://docs.tryflux.com/errors' }),
    );

    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({
      code: 'FLUX_TOKEN_ENDPOINT',
      status: 200,
      error: 'invalid_grant',
      errorDescription: 'The refresh token has expired',
      errorUri: 'https://docs.tryflux.com/errors',
      retryable: false,
    });
  });

  it('treats a 200 error body as an error even when it also carries an access_token', async () => {
    const error = await errorFrom(json(tokenBody({ error: 'server_error' })));

    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ status: 200, error: 'server_error' });
  });
});
