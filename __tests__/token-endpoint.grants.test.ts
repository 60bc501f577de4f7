// What goes over the wire for each grant: the exact form fields, the content type and the
// User-Agent, as the (nock) token endpoint received them.
import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError, VERSION } from '../lib/index.js';
import { MANAGED } from '../lib/endpoint/token-endpoint-options.js';
import { SEED_ACCESS_TOKEN, SEED_REFRESH_TOKEN } from './helpers/seed.js';
import { CLIENT_ID, CLIENT_SECRET, T0, mockTokenEndpoint, testEndpoint, tokenBody } from './helpers/nock-token-endpoint.js';

const endpoint = testEndpoint;

const seedAnswer = {
  status: 200,
  body: { access_token: SEED_ACCESS_TOKEN, refresh_token: SEED_REFRESH_TOKEN, token_type: 'bearer', expires_in: 3600 },
};
/** The seed's token is client-wide (`restrictedTo: {}`): a user's answer carries an opaque token instead. */
const USER_ACCESS_TOKEN = 'opaque-access-token-of-user-42';
const userAnswer = { status: 200, body: { ...seedAnswer.body, access_token: USER_ACCESS_TOKEN } };

describe('client credentials grant', () => {
  it('POSTs exactly client_id, client_secret and grant_type=client_credentials when no scope is given', async () => {
    const { requests } = mockTokenEndpoint(seedAnswer);

    await endpoint().clientCredentials();

    expect(requests).toHaveLength(1);
    expect(requests[0]!.form).toEqual({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    expect(requests[0]!.rawBody).not.toContain('scope');
  });

  it('adds scope=<user id> when a scope is given', async () => {
    const { requests } = mockTokenEndpoint(userAnswer);

    await endpoint().clientCredentials({ scope: 'user-42' });

    expect(requests).toHaveLength(1);
    expect(requests[0]!.form).toEqual({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      scope: 'user-42',
    });
  });

  it('sends the form as application/x-www-form-urlencoded with User-Agent flux-token-manager/<version>', async () => {
    const { requests } = mockTokenEndpoint(userAnswer);

    await endpoint().clientCredentials({ scope: 'user-42' });

    const { headers } = requests[0]!;
    expect(headers['content-type']).toMatch(/^application\/x-www-form-urlencoded(;|$)/);
    expect(headers['user-agent']).toBe(`flux-token-manager/${VERSION}`);
    expect(headers.accept).toBe('application/json');
  });

  it('resolves to a Token labelled with the scope it was asked for', async () => {
    mockTokenEndpoint(userAnswer);

    const token = await endpoint().clientCredentials({ scope: 'user-42' });

    expect({ ...token }).toEqual({
      accessToken: USER_ACCESS_TOKEN,
      refreshToken: SEED_REFRESH_TOKEN,
      tokenType: 'bearer',
      expiresIn: 3600,
      issuedAt: T0,
      expiresAt: T0 + 3600_000,
      scope: 'user-42',
    });
    expect(Object.isFrozen(token)).toBe(true);
  });

  it('resolves to a client-wide Token (no scope key) when no scope is given', async () => {
    mockTokenEndpoint(seedAnswer);

    const token = await endpoint().clientCredentials();

    expect('scope' in token).toBe(false);
  });

  it('leaves refreshToken out of the Token when the answer has none', async () => {
    mockTokenEndpoint({ status: 200, body: tokenBody({ refresh_token: undefined }) });

    const token = await endpoint().clientCredentials();

    expect('refreshToken' in token).toBe(false);
  });

  it.each([
    ['an empty string', ''],
    ['a number', 42],
    ['null', null],
  ])('rejects a scope that is %s with InvalidArgumentError, and sends nothing', async (_what, scope) => {
    const { requests } = mockTokenEndpoint(seedAnswer);

    const error = await endpoint()
      .clientCredentials({ scope: scope as string })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ code: 'FLUX_INVALID_ARGUMENT', argument: 'scope' });
    expect(requests).toHaveLength(0);
  });
});

describe('refresh grant', () => {
  it('POSTs exactly grant_type=refresh_token and refresh_token by default, without client credentials', async () => {
    const { requests } = mockTokenEndpoint(seedAnswer);

    await endpoint().refresh({ refreshToken: SEED_REFRESH_TOKEN });

    expect(requests).toHaveLength(1);
    expect(requests[0]!.form).toEqual({ grant_type: 'refresh_token', refresh_token: SEED_REFRESH_TOKEN });
    expect(requests[0]!.rawBody).not.toContain(CLIENT_SECRET);
    expect(requests[0]!.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded(;|$)/);
    expect(requests[0]!.headers['user-agent']).toBe(`flux-token-manager/${VERSION}`);
  });

  it('delivers a refresh token with +, / and = intact, percent-encoded on the wire', async () => {
    expect(SEED_REFRESH_TOKEN).toMatch(/\+/);
    expect(SEED_REFRESH_TOKEN).toMatch(/\//);
    expect(SEED_REFRESH_TOKEN).toMatch(/=$/);
    const { requests } = mockTokenEndpoint(seedAnswer);

    await endpoint().refresh({ refreshToken: SEED_REFRESH_TOKEN });

    // A raw `+` would decode to a space on the server: it must travel as %2B.
    expect(requests[0]!.rawBody).toContain(`refresh_token=${encodeURIComponent(SEED_REFRESH_TOKEN)}`);
    expect(requests[0]!.form.refresh_token).toBe(SEED_REFRESH_TOKEN);
  });

  it('also sends client_id and client_secret with `authenticate: true`', async () => {
    const { requests } = mockTokenEndpoint(seedAnswer);

    await endpoint().refresh({ refreshToken: SEED_REFRESH_TOKEN, authenticate: true });

    expect(requests[0]!.form).toEqual({
      grant_type: 'refresh_token',
      refresh_token: SEED_REFRESH_TOKEN,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
  });

  it('sends no client credentials with `authenticate: false`', async () => {
    const { requests } = mockTokenEndpoint(seedAnswer);

    await endpoint().refresh({ refreshToken: SEED_REFRESH_TOKEN, authenticate: false });

    expect(Object.keys(requests[0]!.form).sort()).toEqual(['grant_type', 'refresh_token']);
  });

  it('never sends the scope label, and puts it on the returned Token', async () => {
    const { requests } = mockTokenEndpoint(userAnswer);

    const token = await endpoint().refresh({ refreshToken: SEED_REFRESH_TOKEN, scope: 'user-42' });

    expect(requests[0]!.form).not.toHaveProperty('scope');
    expect(token.scope).toBe('user-42');
  });

  it('returns the rotated refresh token the server sent', async () => {
    mockTokenEndpoint({ status: 200, body: tokenBody({ refresh_token: 'rotated+token/value==' }) });

    const token = await endpoint().refresh({ refreshToken: SEED_REFRESH_TOKEN });

    expect(token.refreshToken).toBe('rotated+token/value==');
  });

  it.each([
    ['refreshToken', { refreshToken: '' }],
    ['refreshToken', { refreshToken: undefined }],
    ['scope', { refreshToken: SEED_REFRESH_TOKEN, scope: '' }],
  ])('rejects an empty or missing %s with InvalidArgumentError, and sends nothing', async (argument, options) => {
    const { requests } = mockTokenEndpoint(seedAnswer);

    const error = await endpoint()
      .refresh(options as { refreshToken: string })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ code: 'FLUX_INVALID_ARGUMENT', argument });
    expect(requests).toHaveLength(0);
  });
});

describe('what each request reports and refuses', () => {
  it("reports the status of the answer that settled the request through the manager's onAnswer hook, after its retries", async () => {
    const { requests } = mockTokenEndpoint([{ status: 503, body: { error: 'temporarily_unavailable' } }, { ...userAnswer, status: 201 }]);
    const statuses: number[] = [];

    await endpoint({ request: { retry: 1 } }).clientCredentials({ scope: 'user-42', [MANAGED]: { onAnswer: (status: number) => statuses.push(status) } } as object);

    expect(requests).toHaveLength(2);
    expect(statuses).toEqual([201]);
  });

  it('refuses a scope that is not well-formed Unicode before anything is sent, on both grants', async () => {
    const { requests } = mockTokenEndpoint(userAnswer);

    await expect(endpoint().clientCredentials({ scope: 'bob\uD800' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(endpoint().refresh({ refreshToken: SEED_REFRESH_TOKEN, scope: 'bob\uD800' })).rejects.toThrow(/well-formed Unicode/);
    expect(requests).toHaveLength(0);
  });
});
