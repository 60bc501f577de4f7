// Which failures are sent again and how often, counted as requests the (nock) endpoint received,
// and how long the client waits between attempts, read off the fake clock.
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { TokenEndpoint, TokenEndpointError, TokenRequestError, type TokenEndpointOptions } from '../lib/index.js';
import { MANAGED, type ClientCredentialsOptions, type RefreshOptions } from '../lib/endpoint/token-endpoint-options.js';
import { SEED_REFRESH_TOKEN } from './helpers/seed.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  T0,
  advanceUntil,
  tick,
  track,
  useFakeClock,
  mockTokenEndpoint,
  rejectionUnderFakeTimers,
  tokenBody,
  valueUnderFakeTimers,
} from './helpers/nock-token-endpoint.js';

function endpoint(options: Partial<TokenEndpointOptions> = {}): TokenEndpoint {
  return new TokenEndpoint({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...options, clock: { now: () => Date.now(), ...options.clock } });
}

beforeEach(() => {
  useFakeClock();
});

afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

describe('retryable answers', () => {
  it.each([500, 502, 503, 504, 408, 429])(
    'sends a request answered %i exactly 1 + retry times (retry: 2 -> 3 requests), then fails retryable',
    async (status) => {
      const { requests } = mockTokenEndpoint({ status, body: { error: 'server_error' } });

      const error = await rejectionUnderFakeTimers(endpoint({ request: { retry: 2 } }).clientCredentials({ scope: 'user-42' }));

      expect(requests).toHaveLength(3);
      expect(error).toBeInstanceOf(TokenEndpointError);
      expect(error).toMatchObject({ code: 'FLUX_TOKEN_ENDPOINT', status, retryable: true });
    },
  );

  it('retries an error page without a JSON body too (503 HTML)', async () => {
    const { requests } = mockTokenEndpoint({ status: 503, body: '<html>Service Unavailable</html>' });

    const error = await rejectionUnderFakeTimers(endpoint({ request: { retry: 2 } }).clientCredentials());

    expect(requests).toHaveLength(3);
    expect(error).toMatchObject({ status: 503, error: undefined, retryable: true });
  });

  it('retries the default 2 times when retry is not set', async () => {
    const { requests } = mockTokenEndpoint({ status: 500 });

    await rejectionUnderFakeTimers(endpoint({ request: { retry: undefined } }).clientCredentials());

    expect(requests).toHaveLength(3);
  });

  it('sends exactly one request with retry: 0', async () => {
    const { requests } = mockTokenEndpoint({ status: 503 });

    const error = await rejectionUnderFakeTimers(endpoint({ request: { retry: 0 } }).clientCredentials());

    expect(requests).toHaveLength(1);
    expect(error).toMatchObject({ status: 503, retryable: true });
  });

  it('resolves when a retry succeeds, with issuedAt the send time of the successful attempt', async () => {
    const { requests } = mockTokenEndpoint([{ status: 503 }, { status: 502 }, { status: 200, body: tokenBody() }]);

    const token = await valueUnderFakeTimers(endpoint({ request: { retry: 2 } }).refresh({ refreshToken: SEED_REFRESH_TOKEN }));

    expect(requests).toHaveLength(3);
    // Every attempt carries the same form, the refresh token intact.
    for (const request of requests) {
      expect(request.form).toEqual({ grant_type: 'refresh_token', refresh_token: SEED_REFRESH_TOKEN });
    }
    expect(token.issuedAt).toBeGreaterThanOrEqual(requests[1]!.at);
    expect(token.issuedAt).toBeLessThanOrEqual(requests[2]!.at);
    expect(token.expiresAt).toBe(token.issuedAt + 3600_000);
  });
});

describe('answers that are never retried', () => {
  it.each([
    [400, 'invalid_grant'],
    [400, 'invalid_client'],
    [400, 'invalid_request'],
    [400, 'unauthorized_client'],
    [400, 'unsupported_grant_type'],
    [401, 'invalid_client'],
  ])('sends a request answered %i %s exactly once, and fails not retryable', async (status, oauthError) => {
    const { requests } = mockTokenEndpoint({ status, body: { error: oauthError, error_description: 'refused' } });

    const error = await rejectionUnderFakeTimers(endpoint({ request: { retry: 2 } }).clientCredentials());

    expect(requests).toHaveLength(1);
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({
      code: 'FLUX_TOKEN_ENDPOINT',
      status,
      error: oauthError,
      errorDescription: 'refused',
      retryable: false,
    });
  });

  it('does not retry invalid_grant even when it arrives with a retryable status (503)', async () => {
    const { requests } = mockTokenEndpoint({ status: 503, body: { error: 'invalid_grant' } });

    const error = await rejectionUnderFakeTimers(endpoint({ request: { retry: 2 } }).clientCredentials());

    expect(requests).toHaveLength(1);
    expect(error).toMatchObject({ status: 503, error: 'invalid_grant', retryable: false });
  });

  it('reads the error code of a body that starts with a byte-order mark: a 503 invalid_grant is not retried', async () => {
    const { requests } = mockTokenEndpoint({ status: 503, body: `\uFEFF${JSON.stringify({ error: 'invalid_grant' })}` });

    const error = await rejectionUnderFakeTimers(endpoint({ request: { retry: 2 } }).clientCredentials());

    expect(requests).toHaveLength(1);
    expect(error).toMatchObject({ status: 503, retryable: false });
  });
});

describe('network errors', () => {
  it('retries ECONNRESET exactly retry times, then fails with TokenRequestError reason network', async () => {
    const { requests } = mockTokenEndpoint({ networkError: 'ECONNRESET' });

    const error = await rejectionUnderFakeTimers(endpoint({ request: { retry: 2 } }).clientCredentials());

    expect(requests).toHaveLength(3);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({ code: 'FLUX_TOKEN_REQUEST', reason: 'network', retryable: true });
    expect((error as Error).message).toContain('ECONNRESET');
  });

  it('resolves when the attempt after an ECONNRESET succeeds', async () => {
    const { requests } = mockTokenEndpoint([{ networkError: 'ECONNRESET' }, { status: 200, body: tokenBody() }]);

    const token = await valueUnderFakeTimers(endpoint({ request: { retry: 2 } }).clientCredentials());

    expect(requests).toHaveLength(2);
    expect(token.accessToken).toBe(tokenBody().access_token);
  });

  it('does not retry a network error that is not transient (a TLS certificate error)', async () => {
    const { requests } = mockTokenEndpoint({ networkError: 'CERT_HAS_EXPIRED' });

    const error = await rejectionUnderFakeTimers(endpoint({ request: { retry: 2 } }).clientCredentials());

    expect(requests).toHaveLength(1);
    expect(error).toMatchObject({ code: 'FLUX_TOKEN_REQUEST', reason: 'network' });
  });
});

describe('backoff between attempts', () => {
  it('waits an exponential, jittered delay: 250 ms then 500 ms with the jitter at its minimum', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const { requests } = mockTokenEndpoint({ status: 500 });

    await rejectionUnderFakeTimers(endpoint({ request: { retry: 2 } }).clientCredentials(), { step: 1 });

    expect(requests).toHaveLength(3);
    expect(requests[1]!.at - requests[0]!.at).toBe(250);
    expect(requests[2]!.at - requests[1]!.at).toBe(500);
  });

  it('waits up to the full step, 500 ms then 1000 ms, with the jitter at its maximum', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.999);
    const { requests } = mockTokenEndpoint({ status: 500 });

    await rejectionUnderFakeTimers(endpoint({ request: { retry: 2 } }).clientCredentials(), { step: 1 });

    expect(requests).toHaveLength(3);
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(499);
    expect(requests[1]!.at - requests[0]!.at).toBeLessThanOrEqual(500);
    expect(requests[2]!.at - requests[1]!.at).toBeGreaterThanOrEqual(999);
    expect(requests[2]!.at - requests[1]!.at).toBeLessThanOrEqual(1000);
  });
});

/** Request options with the manager's `retryBy` hook, which the package does not export. */
function by<T extends ClientCredentialsOptions | RefreshOptions>(options: T, retryBy: number): T {
  return { ...options, [MANAGED]: { retryBy } };
}

describe('backoff fitted to a deadline (retryBy)', () => {
  it('cuts each backoff to half the time left before retryBy: 300 ms then 150 ms instead of 500 then 1000', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.999);
    const { requests } = mockTokenEndpoint({ status: 500 });

    await rejectionUnderFakeTimers(endpoint({ request: { retry: 2 } }).clientCredentials(by({}, T0 + 600)), { step: 1 });

    expect(requests).toHaveLength(3);
    expect(requests[1]!.at - requests[0]!.at).toBe(300);
    expect(requests[2]!.at - requests[1]!.at).toBe(150);
  });

  it('never spaces attempts closer than 100 ms, and keeps the plain backoff once retryBy has passed', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const { requests } = mockTokenEndpoint({ status: 500 });

    await rejectionUnderFakeTimers(endpoint({ request: { retry: 2 } }).refresh(by({ refreshToken: SEED_REFRESH_TOKEN }, T0 + 100)), { step: 1 });

    expect(requests).toHaveLength(3);
    // Half of the 100 ms left is 50 ms: the floor wins over both it and the 250 ms backoff.
    expect(requests[1]!.at - requests[0]!.at).toBe(100);
    // retryBy is behind by then: 500 ms, the step of the second retry at its minimum jitter.
    expect(requests[2]!.at - requests[1]!.at).toBe(500);
  });

  it('still obeys a Retry-After longer than the time left', async () => {
    const { requests } = mockTokenEndpoint([{ status: 429, headers: { 'retry-after': '2' } }, { status: 200, body: tokenBody() }]);

    await valueUnderFakeTimers(endpoint({ request: { retry: 1 } }).clientCredentials(by({}, T0 + 600)), { step: 10 });

    expect(requests).toHaveLength(2);
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(2_000);
    expect(requests[1]!.at - requests[0]!.at).toBeLessThan(2_010);
  });
});

describe('Retry-After', () => {
  it('does not retry a 429 with Retry-After: 7 before 7 s have passed, and does at 7 s', async () => {
    const { requests } = mockTokenEndpoint([
      { status: 429, headers: { 'retry-after': '7' } },
      { status: 200, body: tokenBody() },
    ]);
    const outcome = track(endpoint({ request: { retry: 2 } }).clientCredentials());
    await advanceUntil(() => requests.length === 1);

    await tick(6_999);
    expect(requests).toHaveLength(1);
    expect(outcome.settled).toBe(false);

    await tick(1);
    expect(requests).toHaveLength(2);
    await outcome.done;

    expect(requests[1]!.at - requests[0]!.at).toBe(7_000);
    expect(outcome.value?.accessToken).toBe(tokenBody().access_token);
  });

  it('honours Retry-After as an HTTP date, read against the injected clock', async () => {
    const retryAt = T0 + 12_000;
    const { requests } = mockTokenEndpoint([
      { status: 503, headers: { 'retry-after': new Date(retryAt).toUTCString() } },
      { status: 200, body: tokenBody() },
    ]);

    await valueUnderFakeTimers(endpoint({ request: { retry: 1 } }).clientCredentials(), { step: 10 });

    expect(requests).toHaveLength(2);
    expect(requests[1]!.at).toBeGreaterThanOrEqual(retryAt);
    expect(requests[1]!.at).toBeLessThan(retryAt + 10);
  });

  it('caps Retry-After: 3600 at 60 s', async () => {
    const { requests } = mockTokenEndpoint([
      { status: 429, headers: { 'retry-after': '3600' } },
      { status: 200, body: tokenBody() },
    ]);
    const outcome = track(endpoint({ request: { retry: 2 } }).clientCredentials());
    await advanceUntil(() => requests.length === 1);

    await tick(59_999);
    expect(requests).toHaveLength(1);

    await tick(1);
    expect(requests).toHaveLength(2);
    await outcome.done;

    expect(requests[1]!.at - requests[0]!.at).toBe(60_000);
    expect(outcome.value?.accessToken).toBe(tokenBody().access_token);
  });

  it('reports the Retry-After of the final answer on the error', async () => {
    mockTokenEndpoint({ status: 429, headers: { 'retry-after': '5' } });

    const error = await rejectionUnderFakeTimers(endpoint({ request: { retry: 0 } }).clientCredentials());

    expect(error).toMatchObject({ status: 429, retryable: true, retryAfterMs: 5_000 });
  });
});
