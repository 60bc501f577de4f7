import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ConfigurationError } from '../lib/shared/errors.js';
import { decodeJws } from '../lib/endpoint/jws.js';
import { TokenEndpoint } from '../lib/endpoint/token-endpoint.js';
import { EMULATOR_DEFAULTS, startEmulator, type Emulator } from '../lib/emulator/index.js';
import { callApi, clientCredentials, issue, postToken } from './helpers/emulator-http.js';

const NOW = 1_700_000_000_000;
const REFRESH_TOKEN_SHAPE = /^[A-Za-z0-9+/]{86}==$/;

describe('the emulator token endpoint', () => {
  let emulator: Emulator;

  beforeAll(async () => {
    emulator = await startEmulator({ now: () => NOW });
  });
  afterAll(() => emulator.close());
  beforeEach(() => {
    emulator.setFault('none');
    emulator.resetStats();
  });

  describe('starting', () => {
    it('listens on 127.0.0.1 with the default test credentials', () => {
      expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(emulator.tokenUrl).toBe(`${emulator.url}/auth/oauth/token`);
      expect(emulator.clientId).toBe('flux-demo-client');
      expect(emulator.clientSecret).toBe('flux-demo-secret');
    });

    it.each([
      ['host', { host: '0.0.0.0' }],
      ['host', { host: 'example.com' }],
      ['port', { port: -1 }],
      ['port', { port: 1.5 }],
      ['expiresIn', { expiresIn: 0 }],
      ['expiresIn', { expiresIn: Number.NaN }],
      ['latency', { latency: -1 }],
      ['retryAfterSeconds', { retryAfterSeconds: 0.5 }],
      ['issueRefreshTokens', { issueRefreshTokens: 'yes' }],
      ['now', { now: 1 }],
      ['clientId', { clientId: '' }],
      ['expiresin', { expiresin: 10 }],
    ])('rejects an invalid `%s` with a ConfigurationError naming it', async (option, options) => {
      const failure = startEmulator(options as never);
      await expect(failure).rejects.toBeInstanceOf(ConfigurationError);
      await expect(failure).rejects.toMatchObject({ code: 'FLUX_CONFIG_INVALID', option });
    });

    it('never echoes a rejected client secret', async () => {
      const failure = startEmulator({ clientSecret: 42 as never });
      await expect(failure).rejects.toThrow('Expected `clientSecret` to be a non-empty string, got a value of type number');
    });

    it('exports its defaults', () => {
      expect(EMULATOR_DEFAULTS).toMatchObject({ port: 0, host: '127.0.0.1', expiresIn: 3600, latency: 0 });
    });
  });

  describe('the client_credentials grant', () => {
    it('answers like Flux: access_token, refresh_token, token_type bearer, expires_in', async () => {
      const answer = await postToken(emulator, clientCredentials(emulator));
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(Object.keys(answer.json!)).toEqual(['access_token', 'refresh_token', 'token_type', 'expires_in']);
      expect(answer.json).toMatchObject({ token_type: 'bearer', expires_in: 3600 });
      expect(answer.json!.refresh_token).toMatch(REFRESH_TOKEN_SHAPE);
    });

    it('issues a Flux-shaped JWS: RS256 + GZIP header, gzip claims, Flux-sized', async () => {
      const { accessToken } = await issue(emulator);
      expect(accessToken.length).toBeGreaterThanOrEqual(550);
      expect(accessToken.length).toBeLessThanOrEqual(750);
      expect(accessToken.split('.')[1]).toMatch(/^H4sI/); // base64url of the gzip magic number
      const { header, claims } = decodeJws(accessToken);
      expect(header).toEqual({ alg: 'RS256', zip: 'GZIP' });
      expect(Object.keys(claims)).toEqual(['jti', 'iss', 'aud', 'exp', 'nbf', 'metadata', 'restrictedTo']);
      expect(claims).toMatchObject({ iss: 'tryflux.com', aud: 'flux-demo-client', restrictedTo: {} });
      expect(claims.nbf).toBe(NOW / 1000);
      expect(claims.exp! - claims.nbf!).toBe(3600);
      expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('gives every token its own jti and refresh token', async () => {
      const [a, b] = await Promise.all([issue(emulator), issue(emulator)]);
      expect(decodeJws(a.accessToken).claims.jti).not.toBe(decodeJws(b.accessToken).claims.jti);
      expect(a.refreshToken).not.toBe(b.refreshToken);
    });

    it('restricts the token to the user given as `scope`', async () => {
      const { accessToken } = await issue(emulator, 'user-42');
      expect(decodeJws(accessToken).claims.restrictedTo).toBe('user-42');
    });

    it.each([
      ['a wrong secret', { client_secret: 'nope' }],
      ['a wrong client id', { client_id: 'someone-else' }],
    ])('answers 401 invalid_client for %s', async (_name, override) => {
      const answer = await postToken(emulator, { ...clientCredentials(emulator), ...override });
      expect(answer.status).toBe(401);
      expect(answer.json).toMatchObject({ error: 'invalid_client' });
      expect(answer.text).not.toContain(emulator.clientSecret);
    });

    it('answers 401 invalid_client without credentials', async () => {
      const answer = await postToken(emulator, { grant_type: 'client_credentials' });
      expect(answer.status).toBe(401);
      expect(answer.json).toMatchObject({ error: 'invalid_client' });
    });

    it('answers 400 invalid_request for an empty scope', async () => {
      const answer = await postToken(emulator, clientCredentials(emulator, { scope: '' }));
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ error: 'invalid_request' });
    });

    it('answers a fractional lifetime as given, and rounds the token\'s exp up to a whole second', async () => {
      const short = await startEmulator({ expiresIn: 0.5, now: () => NOW + 250 });
      try {
        const answer = await postToken(short, clientCredentials(short));
        expect(answer.json!.expires_in).toBe(0.5);
        const { claims } = decodeJws(answer.json!.access_token as string);
        expect(claims).toMatchObject({ nbf: NOW / 1000, exp: NOW / 1000 + 1 });
      } finally {
        await short.close();
      }
    });

    it('leaves the refresh token out when issueRefreshTokens is false', async () => {
      const noRefresh = await startEmulator({ issueRefreshTokens: false, clientId: 'c', clientSecret: 's' });
      try {
        const answer = await postToken(noRefresh, { grant_type: 'client_credentials', client_id: 'c', client_secret: 's' });
        expect(answer.status).toBe(200);
        expect(Object.keys(answer.json!)).toEqual(['access_token', 'token_type', 'expires_in']);
        expect(decodeJws(answer.json!.access_token as string).claims.aud).toBe('c');
      } finally {
        await noRefresh.close();
      }
    });
  });

  describe('the refresh_token grant', () => {
    it('renews a token: a new access token and refresh token, the same scope', async () => {
      const first = await issue(emulator, 'user-7');
      const answer = await postToken(emulator, { grant_type: 'refresh_token', refresh_token: first.refreshToken });
      expect(answer.status).toBe(200);
      expect(Object.keys(answer.json!)).toEqual(['access_token', 'refresh_token', 'token_type', 'expires_in']);
      expect(answer.json!.access_token).not.toBe(first.accessToken);
      expect(answer.json!.refresh_token).not.toBe(first.refreshToken);
      expect(answer.json!.refresh_token).toMatch(REFRESH_TOKEN_SHAPE);
      expect(decodeJws(answer.json!.access_token as string).claims.restrictedTo).toBe('user-7');
    });

    it('rotates strictly: a refresh token works once, and its reuse is invalid_grant', async () => {
      const first = await issue(emulator);
      const renewed = await postToken(emulator, { grant_type: 'refresh_token', refresh_token: first.refreshToken });
      expect(renewed.status).toBe(200);
      const reused = await postToken(emulator, { grant_type: 'refresh_token', refresh_token: first.refreshToken });
      expect(reused.status).toBe(400);
      expect(reused.json).toMatchObject({ error: 'invalid_grant' });
      const next = await postToken(emulator, { grant_type: 'refresh_token', refresh_token: renewed.json!.refresh_token as string });
      expect(next.status).toBe(200);
      expect(emulator.stats().tokenCalls.invalidGrant).toBe(1);
    });

    it('lets exactly one of two concurrent refreshes with the same token win', async () => {
      const { refreshToken } = await issue(emulator);
      const form = { grant_type: 'refresh_token', refresh_token: refreshToken };
      const answers = await Promise.all([postToken(emulator, form), postToken(emulator, form)]);
      expect(answers.map((a) => a.status).sort()).toEqual([200, 400]);
    });

    it('answers invalid_grant for an unknown refresh token', async () => {
      const answer = await postToken(emulator, { grant_type: 'refresh_token', refresh_token: 'JT911IQ03V+Gs81J/ARyg==' });
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ error: 'invalid_grant' });
    });

    it('accepts matching client credentials, and refuses wrong ones without spending the token', async () => {
      const { refreshToken } = await issue(emulator);
      const wrong = await postToken(emulator, {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: emulator.clientId,
        client_secret: 'wrong',
      });
      expect(wrong.status).toBe(401);
      expect(wrong.json).toMatchObject({ error: 'invalid_client' });
      const right = await postToken(emulator, clientCredentials(emulator, { grant_type: 'refresh_token', refresh_token: refreshToken }));
      expect(right.status).toBe(200);
    });

    it('answers invalid_request without a refresh_token', async () => {
      const answer = await postToken(emulator, { grant_type: 'refresh_token' });
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ error: 'invalid_request' });
    });

    it('answers invalid_scope when asked to change the scope, without spending the token', async () => {
      const { refreshToken } = await issue(emulator, 'user-1');
      const answer = await postToken(emulator, { grant_type: 'refresh_token', refresh_token: refreshToken, scope: 'user-2' });
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ error: 'invalid_scope' });
      const same = await postToken(emulator, { grant_type: 'refresh_token', refresh_token: refreshToken, scope: 'user-1' });
      expect(same.status).toBe(200);
    });
  });

  describe('malformed requests', () => {
    it.each([
      { name: 'a JSON body', body: JSON.stringify({ grant_type: 'client_credentials' }), contentType: 'application/json', status: 400, error: 'invalid_request' },
      { name: 'no grant_type', body: 'client_id=flux-demo-client', status: 400, error: 'invalid_request' },
      { name: 'an empty grant_type', body: 'grant_type=', status: 400, error: 'invalid_request' },
      { name: 'a repeated parameter', body: 'grant_type=client_credentials&grant_type=refresh_token', status: 400, error: 'invalid_request' },
      { name: 'an unsupported grant', body: 'grant_type=password&username=a&password=b', status: 400, error: 'unsupported_grant_type' },
      { name: 'a body too large', body: `grant_type=client_credentials&pad=${'x'.repeat(70_000)}`, status: 413, error: 'invalid_request' },
    ] as { name: string; body: string; contentType?: string; status: number; error: string }[])(
      'answers $name with $status $error',
      async ({ body, contentType, status, error }) => {
        const answer = await postToken(emulator, body, contentType === undefined ? {} : { contentType });
        expect(answer.status).toBe(status);
        expect(answer.json).toMatchObject({ error });
      },
    );

    it('answers 405 to a GET', async () => {
      const response = await fetch(emulator.tokenUrl);
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
      expect(await response.json()).toMatchObject({ error: 'invalid_request' });
    });

    it('answers 404 with JSON on an unknown path', async () => {
      const response = await fetch(`${emulator.url}/oauth/token`, { method: 'POST' });
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: 'not_found' });
    });
  });

  describe('stats', () => {
    it('counts token calls by grant, scope and status', async () => {
      const a = await issue(emulator, 'user-1');
      await issue(emulator, 'user-1');
      await issue(emulator);
      await postToken(emulator, { grant_type: 'refresh_token', refresh_token: a.refreshToken });
      await postToken(emulator, { grant_type: 'refresh_token', refresh_token: a.refreshToken });
      await postToken(emulator, clientCredentials(emulator, { client_secret: 'wrong' }));
      await postToken(emulator, 'grant_type=password');
      const { tokenCalls } = emulator.stats();
      expect(tokenCalls.total).toBe(7);
      expect(tokenCalls.byGrant).toEqual({ client_credentials: 4, refresh_token: 2 });
      // The reused refresh token is unknown by then, so it has no scope to count under.
      expect(tokenCalls.byScope).toEqual({ 'user-1': 3, '*': 2 });
      expect(tokenCalls.byStatus).toEqual({ '200': 4, '400': 2, '401': 1 });
      expect(tokenCalls.issuedByScope).toEqual({ 'user-1': 3, '*': 1 });
      expect(tokenCalls.invalidGrant).toBe(1);
    });

    it('counts as issued only the answers that carried a well-formed new token', async () => {
      emulator.setFault('500', { count: 1 });
      await postToken(emulator, clientCredentials(emulator, { scope: 'user-1' }));
      emulator.setFault('no-access-token', { count: 1 });
      await postToken(emulator, clientCredentials(emulator, { scope: 'user-1' }));
      await issue(emulator, 'user-1');
      const { tokenCalls } = emulator.stats();
      expect(tokenCalls.byScope).toEqual({ 'user-1': 3 });
      expect(tokenCalls.byStatus).toEqual({ '500': 1, '200': 2 });
      expect(tokenCalls.issuedByScope).toEqual({ 'user-1': 1 });
    });

    it('counts user ids that collide with Object.prototype like any other', async () => {
      await issue(emulator, '__proto__');
      await issue(emulator, 'constructor');
      await issue(emulator, 'constructor');
      const { byScope } = emulator.stats().tokenCalls;
      expect(Object.keys(byScope).sort()).toEqual(['__proto__', 'constructor']);
      expect(byScope['__proto__']).toBe(1);
      expect(byScope['constructor']).toBe(2);
    });

    it('returns a copy, and zeroes the counters on resetStats()', async () => {
      await issue(emulator);
      const snapshot = emulator.stats();
      snapshot.tokenCalls.total = 99;
      expect(emulator.stats().tokenCalls.total).toBe(1);
      emulator.resetStats();
      expect(emulator.stats()).toEqual({
        tokenCalls: { total: 0, byGrant: { client_credentials: 0, refresh_token: 0 }, byScope: {}, byStatus: {}, issuedByScope: {}, invalidGrant: 0 },
        api: { total: 0, byStatus: {}, unauthorized: { missing: 0, unknown: 0, expired: 0, 'wrong-user': 0, forced: 0 } },
        concurrentTokenCalls: 0,
        peakConcurrentTokenCalls: 0,
      });
    });
  });

  describe('with the library TokenEndpoint', () => {
    it('gets a token the API accepts, and refreshes it', async () => {
      const endpoint = new TokenEndpoint({
        tokenUrl: emulator.tokenUrl,
        clientId: emulator.clientId,
        clientSecret: emulator.clientSecret,
        clock: { now: () => NOW },
      });
      const token = await endpoint.clientCredentials({ scope: 'user-42' });
      expect(token).toMatchObject({ tokenType: 'bearer', expiresIn: 3600, scope: 'user-42', expiresAt: NOW + 3_600_000 });
      const call = await callApi(emulator, '/users/user-42/receipts', `Bearer ${token.accessToken}`);
      expect(call.status).toBe(200);

      const renewed = await endpoint.refresh({ refreshToken: token.refreshToken!, scope: 'user-42' });
      expect(renewed.refreshToken).not.toBe(token.refreshToken);
      expect((await callApi(emulator, '/users/user-42', `Bearer ${renewed.accessToken}`)).status).toBe(200);
      await expect(endpoint.refresh({ refreshToken: token.refreshToken! })).rejects.toMatchObject({
        code: 'FLUX_TOKEN_ENDPOINT',
        status: 400,
        error: 'invalid_grant',
        retryable: false,
      });
      expect(emulator.stats().tokenCalls.byGrant).toEqual({ client_credentials: 1, refresh_token: 2 });
    });
  });
});
