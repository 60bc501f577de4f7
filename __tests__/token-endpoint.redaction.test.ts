// Redaction proofs: with real-looking secrets, no failure path puts the client secret, the refresh
// token or the access token into anything a caller might log: message, stack, util.inspect,
// JSON.stringify, String(), or any error down the cause chain. Nor do the endpoint and the token.
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { inspect } from 'node:util';
import { MAX_RESPONSE_BYTES, type TokenEndpointOptions } from '../lib/index.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  T0,
  gzipJws,
  mockTokenEndpoint,
  rejectionUnderFakeTimers,
  startSilentServer,
  testEndpoint,
  useFakeClock,
  type Answer,
} from './helpers/nock-token-endpoint.js';

/** Shaped like the seed's: base64 with `+`, `/` and `=`. */
const REFRESH_TOKEN = 'Zq81LmN0+Vx3Rf7Tk2Pw/Hj5Yb9Ud4Ae6Sc1Gi0Ko8Mn==';
/** Shaped like a Flux access token: a JWS. */
const ACCESS_TOKEN = gzipJws({ jti: 'redaction-sample', iss: 'tryflux.com' });
const SECRETS = { clientSecret: CLIENT_SECRET, refreshToken: REFRESH_TOKEN, accessToken: ACCESS_TOKEN };

/** Every printed form of a value that a logger or a developer might produce. */
function printedForms(value: unknown): string[] {
  return [
    inspect(value, { depth: 10 }),
    inspect(value, { depth: 10, showHidden: true }),
    JSON.stringify(value) ?? '',
    String(value),
  ];
}

/** The printed forms of an error and of every error in its cause chain. */
function errorForms(error: unknown): string[] {
  const forms: string[] = [];
  const seen = new Set<unknown>();
  for (let current = error; current !== undefined && current !== null && !seen.has(current); ) {
    seen.add(current);
    forms.push(...printedForms(current));
    if (current instanceof Error) {
      forms.push(current.message, current.stack ?? '');
      current = current.cause;
    } else {
      current = undefined;
    }
  }
  return forms;
}

/** The secrets (raw or form-encoded) found in any of `forms`, by name. */
function leaks(forms: string[]): string[] {
  const found = new Set<string>();
  for (const [name, secret] of Object.entries(SECRETS)) {
    for (const variant of [secret, encodeURIComponent(secret)]) {
      if (forms.some((form) => form.includes(variant))) found.add(name);
    }
  }
  return [...found];
}

/** An endpoint for the refresh grant with client credentials (`authenticate: true`): every secret it has is sent. */
const endpoint = testEndpoint;

async function failure(answer: Answer, options: Partial<TokenEndpointOptions> = {}): Promise<unknown> {
  const { requests } = mockTokenEndpoint(answer);
  const error = await endpoint(options)
    .refresh({ authenticate: true, refreshToken: REFRESH_TOKEN })
    .then(
      () => new Error('expected a rejection'),
      (e: unknown) => e,
    );
  // The secrets did go out: the proof below is about what comes back.
  expect(requests[0]!.form).toMatchObject({ client_secret: CLIENT_SECRET, refresh_token: REFRESH_TOKEN });
  return error;
}

const echo = `client_secret ${CLIENT_SECRET} and refresh_token ${REFRESH_TOKEN} are not valid`;
const echoForm = `bad request body: grant_type=refresh_token&refresh_token=${encodeURIComponent(REFRESH_TOKEN)}&client_id=${CLIENT_ID}&client_secret=${CLIENT_SECRET}`;
const html = `<html><body><pre>POST /auth/oauth/token client_secret=${CLIENT_SECRET} refresh_token=${REFRESH_TOKEN} access_token=${ACCESS_TOKEN}</pre></body></html>`;
const tokenWith = (fields: Record<string, unknown>) => ({
  access_token: ACCESS_TOKEN,
  refresh_token: REFRESH_TOKEN,
  token_type: 'bearer',
  expires_in: 3600,
  ...fields,
});

afterEach(() => {
  jest.useRealTimers();
});

describe('the leak detector itself', () => {
  it('finds each secret, raw or form-encoded, anywhere in the cause chain', () => {
    const chained = new Error('outer', { cause: new Error(`inner ${encodeURIComponent(REFRESH_TOKEN)}`) });
    expect(leaks(errorForms(chained))).toEqual(['refreshToken']);
    expect(leaks(errorForms(new Error(CLIENT_SECRET)))).toEqual(['clientSecret']);
    expect(leaks(printedForms({ nested: { deeper: { token: ACCESS_TOKEN } } }))).toEqual(['accessToken']);
  });
});

describe('no secret in any error', () => {
  const cases: Array<[string, Answer]> = [
    ['400 invalid_client whose error_description echoes the secret and the refresh token', { status: 400, body: { error: 'invalid_client', error_description: echo } }],
    ['400 invalid_request whose error_description echoes the form-encoded body', { status: 400, body: { error: 'invalid_request', error_description: echoForm } }],
    ['400 invalid_grant echoing secrets in error and error_uri', { status: 400, body: { error: `invalid_grant ${REFRESH_TOKEN}`, error_uri: `https://flux.test/e?rt=${encodeURIComponent(REFRESH_TOKEN)}&cs=${CLIENT_SECRET}` } }],
    ['401 invalid_client echoing the secret', { status: 401, body: { error: 'invalid_client', error_description: `unknown secret ${CLIENT_SECRET}` } }],
    ['500 echoing the secrets in JSON', { status: 500, body: { error: 'server_error', error_description: echo } }],
    ['500 HTML page echoing the secrets', { status: 500, body: html }],
    ['503 HTML page', { status: 503, body: html }],
    ['200 with an error body echoing the secrets', { status: 200, body: { error: 'invalid_grant', error_description: echo } }],
    ['200 HTML page (not_json)', { status: 200, body: html }],
    ['200 token with token_type mac', { status: 200, body: tokenWith({ token_type: 'mac' }) }],
    ['200 token with expires_in "NaN"', { status: 200, body: tokenWith({ expires_in: 'NaN' }) }],
    ['200 token with expires_in a secret-looking string', { status: 200, body: tokenWith({ expires_in: REFRESH_TOKEN }) }],
    ['200 token with an empty refresh_token', { status: 200, body: tokenWith({ refresh_token: '' }) }],
    ['200 token with token_type set to the access token', { status: 200, body: tokenWith({ token_type: ACCESS_TOKEN }) }],
    ['200 token with token_type echoing the client secret', { status: 200, body: tokenWith({ token_type: `mac ${CLIENT_SECRET}` }) }],
    ['200 token with token_type echoing the form-encoded refresh token', { status: 200, body: tokenWith({ token_type: encodeURIComponent(REFRESH_TOKEN) }) }],
    ['200 token without any expiry (no_expiry)', { status: 200, body: tokenWith({ expires_in: undefined }) }],
    ['200 token with a non-string access_token', { status: 200, body: tokenWith({ access_token: [ACCESS_TOKEN] }) }],
    ['200 body over 1 MiB', { status: 200, body: tokenWith({ padding: `${REFRESH_TOKEN} `.repeat(MAX_RESPONSE_BYTES / 40) }) }],
    ['network error (ECONNRESET)', { networkError: 'ECONNRESET' }],
  ];

  it.each(cases)('%s', async (_what, answer) => {
    const error = await failure(answer);

    expect(error).toHaveProperty('code');
    expect(leaks(errorForms(error))).toEqual([]);
  });

  it('an invalid token_type is shown scrubbed, so that a prefix of a secret cannot survive the cap either', async () => {
    const error = await failure({ status: 200, body: tokenWith({ token_type: `${ACCESS_TOKEN} ${CLIENT_SECRET}` }) });

    expect(error).toMatchObject({ code: 'FLUX_INVALID_TOKEN_RESPONSE', reason: 'invalid_token_type' });
    expect((error as Error).message).toContain('[redacted]');
    const forms = errorForms(error);
    for (const secret of Object.values(SECRETS)) expect(forms.some((form) => form.includes(secret.slice(0, 12)))).toBe(false);
  });

  it('a long error_description is cut after redaction, so no part of a secret survives at the cut', async () => {
    // Before redaction, the refresh token would straddle the 500-character cap.
    const description = `${'x'.repeat(480)} ${REFRESH_TOKEN} ${'y'.repeat(100)}`;

    const error = await failure({ status: 400, body: { error: 'invalid_grant', error_description: description } });

    expect(error).toMatchObject({ code: 'FLUX_TOKEN_ENDPOINT', error: 'invalid_grant' });
    const forms = errorForms(error);
    expect(forms.some((form) => form.includes(REFRESH_TOKEN.slice(0, 8)))).toBe(false);
    expect((error as { errorDescription: string }).errorDescription).toContain('[redacted]');
  });

  it('after retries of a 500 that echoes the secrets (retry: 2, fake timers)', async () => {
    useFakeClock();
    const { requests } = mockTokenEndpoint({ status: 500, body: { error: 'server_error', error_description: echo } });

    const error = await rejectionUnderFakeTimers(endpoint({ request: { retry: 2 }, clock: { now: () => Date.now() } }).refresh({ authenticate: true, refreshToken: REFRESH_TOKEN }));

    expect(requests).toHaveLength(3);
    expect(error).toMatchObject({ code: 'FLUX_TOKEN_ENDPOINT', status: 500 });
    expect(leaks(errorForms(error))).toEqual([]);
  });

  it('the client-credentials grant: 400 echoing the form-encoded body', async () => {
    const echoed = `bad body: grant_type=client_credentials&client_id=${CLIENT_ID}&client_secret=${CLIENT_SECRET}&scope=user-42`;
    mockTokenEndpoint({ status: 400, body: { error: 'invalid_client', error_description: echoed } });

    const error = await endpoint()
      .clientCredentials({ scope: 'user-42' })
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'FLUX_TOKEN_ENDPOINT', error: 'invalid_client' });
    expect(leaks(errorForms(error))).toEqual([]);
  });

  it('a timeout', async () => {
    const server = await startSilentServer();
    try {
      const error = await endpoint({ tokenUrl: server.url, request: { timeout: 50 } })
        .refresh({ authenticate: true, refreshToken: REFRESH_TOKEN })
        .catch((e: unknown) => e);

      expect(error).toMatchObject({ code: 'FLUX_TOKEN_REQUEST', reason: 'timeout' });
      expect(leaks(errorForms(error))).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('an abort while the request is in flight', async () => {
    const server = await startSilentServer();
    try {
      const controller = new AbortController();
      const pending = endpoint({ tokenUrl: server.url, request: { timeout: 60_000 } })
        .refresh({ authenticate: true, refreshToken: REFRESH_TOKEN, signal: controller.signal })
        .catch((e: unknown) => e);
      await server.untilReceived(1);
      controller.abort();

      const error = await pending;

      expect(error).toMatchObject({ code: 'FLUX_ABORTED' });
      expect(leaks(errorForms(error))).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe('no secret in the endpoint or a token', () => {
  it('util.inspect and JSON.stringify of the endpoint hold no client secret', () => {
    const forms = printedForms(endpoint());

    expect(forms.join('\n')).toContain(CLIENT_ID);
    expect(leaks(forms)).toEqual([]);
  });

  it('util.inspect, JSON.stringify and String of a token hold neither the access nor the refresh token', async () => {
    mockTokenEndpoint({ status: 200, body: tokenWith({}) });

    const token = await endpoint().refresh({ authenticate: true, refreshToken: 'an-older-refresh-token', scope: 'user-42' });

    // The secrets are there to be read...
    expect(token.accessToken).toBe(ACCESS_TOKEN);
    expect(token.refreshToken).toBe(REFRESH_TOKEN);
    // ...and absent from every printed form, which still shows the rest.
    const forms = [...printedForms(token), `${String(token)}`, inspect({ token }, { depth: 10 }), JSON.stringify({ token })];
    expect(leaks(forms)).toEqual([]);
    expect(JSON.parse(JSON.stringify(token))).toEqual({
      accessToken: '[redacted]',
      refreshToken: '[redacted]',
      tokenType: 'bearer',
      expiresIn: 3600,
      issuedAt: T0,
      expiresAt: T0 + 3600_000,
      scope: 'user-42',
    });
  });
});
