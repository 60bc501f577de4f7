// Per-attempt timeouts against a loopback server that never answers, and AbortSignal: before the
// request, while it is in flight, and while the client waits to retry.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import nock from 'nock';
import { AbortError, FluxTokenError, TokenEndpoint, TokenRequestError, type TokenEndpointOptions } from '../lib/index.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  advanceUntil,
  mockTokenEndpoint,
  settleIo,
  startSilentServer,
  startTricklingServer,
  tick,
  tokenBody,
  track,
  useFakeClock,
} from './helpers/nock-token-endpoint.js';

function endpoint(options: Partial<TokenEndpointOptions> = {}): TokenEndpoint {
  return new TokenEndpoint({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...options });
}

describe('timeout', () => {
  let server: Awaited<ReturnType<typeof startSilentServer>>;

  beforeEach(async () => {
    server = await startSilentServer();
  });

  afterEach(async () => {
    jest.useRealTimers();
    jest.restoreAllMocks();
    await server.close();
  });

  it('fails with TokenRequestError reason timeout when an attempt gets no answer within `timeout`', async () => {
    const started = performance.now();

    const error = await endpoint({ tokenUrl: server.url, request: { timeout: 50, retry: 0 } })
      .clientCredentials()
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({ code: 'FLUX_TOKEN_REQUEST', reason: 'timeout', retryable: true });
    expect((error as Error).message).toContain('50 ms');
    // At most one: on a starved machine the timeout may fire before the server saw the request.
    expect(server.received()).toBeLessThanOrEqual(1);
    // It gave up on time rather than waiting for something else (got's default is no timeout).
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('retries a timed-out attempt: retry 1 means 2 requests, each cut off at `timeout`', async () => {
    useFakeClock();
    jest.spyOn(Math, 'random').mockReturnValue(0); // backoff before the first retry: 250 ms
    const start = Date.now();
    const outcome = track(endpoint({ tokenUrl: server.url, request: { timeout: 1_000, retry: 1 } }).clientCredentials());

    await server.untilReceived(1);
    await tick(999);
    expect(outcome.settled).toBe(false);
    expect(server.received()).toBe(1);

    // Attempt 1 times out at 1000 ms; attempt 2 goes out after the backoff.
    await advanceUntil(() => server.received() === 2, { step: 5, maxMs: 900 });
    expect(Date.now() - start).toBeGreaterThanOrEqual(1_000 + 250);
    const secondSentBy = Date.now();

    await advanceUntil(() => outcome.settled, { step: 5, maxMs: 2_000 });

    expect(Date.now() - secondSentBy).toBeGreaterThanOrEqual(1_000 - 5);
    expect(server.received()).toBe(2);
    expect(outcome.error).toBeInstanceOf(TokenRequestError);
    expect(outcome.error).toMatchObject({ code: 'FLUX_TOKEN_REQUEST', reason: 'timeout' });
  });
});

describe('timeout while the body is read', () => {
  let trickle: Awaited<ReturnType<typeof startTricklingServer>>;

  // A plain socket: nock's stand-in emits a second 'error' when got destroys a request mid-body.
  beforeAll(() => nock.restore());
  afterAll(() => nock.activate());
  afterEach(async () => {
    await trickle.close();
  });

  it('reports reason timeout, not network, when the body still trickles in at `timeout`', async () => {
    // Real timers: the answer never ends, so the timeout is the only way out, however busy the CPU.
    trickle = await startTricklingServer();
    const error = await endpoint({ tokenUrl: trickle.url, request: { timeout: 200, retry: 0 } })
      .clientCredentials()
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({ code: 'FLUX_TOKEN_REQUEST', reason: 'timeout' });
    expect((error as Error).message).toBe('The token endpoint did not finish its answer within 200 ms');
  });
});

describe('abort', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('rejects with AbortError and sends nothing when the signal is already aborted', async () => {
    const { requests } = mockTokenEndpoint({ status: 200, body: tokenBody() });
    const controller = new AbortController();
    const reason = new Error('shutting down');
    controller.abort(reason);

    const error = await endpoint()
      .clientCredentials({ signal: controller.signal })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AbortError);
    expect(error).toBeInstanceOf(FluxTokenError);
    expect(error).toMatchObject({ code: 'FLUX_ABORTED', name: 'AbortError', cause: reason });
    expect(requests).toHaveLength(0);
  });

  it('rejects with AbortError at once when aborted while the request is in flight', async () => {
    const server = await startSilentServer();
    try {
      const controller = new AbortController();
      // A timeout far beyond the test's own: only the abort can end this request.
      const outcome = track(
        endpoint({ tokenUrl: server.url, request: { timeout: 60_000, retry: 2 } }).refresh({
          refreshToken: 'rt+abc/def==',
          signal: controller.signal,
        }),
      );
      await server.untilReceived(1);
      expect(outcome.settled).toBe(false);

      controller.abort();
      await outcome.done;

      expect(outcome.error).toBeInstanceOf(AbortError);
      expect(outcome.error).toMatchObject({ code: 'FLUX_ABORTED', name: 'AbortError' });
      expect(server.received()).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('rejects with AbortError at once when aborted during the backoff wait, and sends no further request', async () => {
    useFakeClock();
    const { requests } = mockTokenEndpoint([
      { status: 503, headers: { 'retry-after': '30' } },
      { status: 200, body: tokenBody() },
    ]);
    const controller = new AbortController();
    const outcome = track(endpoint({ request: { retry: 2 } }).clientCredentials({ signal: controller.signal }));
    await advanceUntil(() => requests.length === 1);
    await tick(1_000);
    expect(outcome.settled).toBe(false);

    controller.abort();
    // No fake time passes: the rejection must not wait for the 30 s backoff to end.
    await settleIo();

    expect(outcome.settled).toBe(true);
    expect(outcome.error).toBeInstanceOf(AbortError);
    expect(outcome.error).toMatchObject({ code: 'FLUX_ABORTED', name: 'AbortError' });

    // Nor is the retry sent later.
    await tick(120_000);
    expect(requests).toHaveLength(1);
  });

  it('has no effect once the token has been returned', async () => {
    const { requests } = mockTokenEndpoint({ status: 200, body: tokenBody() });
    const controller = new AbortController();

    const token = await endpoint().clientCredentials({ signal: controller.signal });
    controller.abort();

    expect(token.accessToken).toBe(tokenBody().access_token);
    expect(requests).toHaveLength(1);
  });
});
