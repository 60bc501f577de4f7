import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { FluxTokenError, InvalidArgumentError } from '../lib/shared/errors.js';
import { TokenEndpoint } from '../lib/endpoint/token-endpoint.js';
import { TOKEN_FAULTS, startEmulator, type Emulator, type TokenFault } from '../lib/emulator/index.js';
import { callApi, clientCredentials, issue, postToken, rawPost, waitFor } from './helpers/emulator-http.js';

function endpointFor(emulator: Emulator, timeout = 10_000): TokenEndpoint {
  return new TokenEndpoint({
    tokenUrl: emulator.tokenUrl,
    clientId: emulator.clientId,
    clientSecret: emulator.clientSecret,
    request: { retry: 0, timeout },
  });
}

describe('emulator faults', () => {
  let emulator: Emulator;

  beforeAll(async () => {
    emulator = await startEmulator({ retryAfterSeconds: 7 });
  });
  afterAll(() => emulator.close());
  beforeEach(() => {
    emulator.setFault('none');
    emulator.resetStats();
  });

  describe('transport faults of the token endpoint', () => {
    it("'500' answers 500 server_error", async () => {
      emulator.setFault('500');
      const answer = await postToken(emulator, clientCredentials(emulator));
      expect(answer.status).toBe(500);
      expect(answer.json).toMatchObject({ error: 'server_error' });
      await expect(endpointFor(emulator).clientCredentials()).rejects.toMatchObject({
        code: 'FLUX_TOKEN_ENDPOINT',
        status: 500,
        retryable: true,
      });
    });

    it("'429' answers 429 with Retry-After set to retryAfterSeconds", async () => {
      emulator.setFault('429');
      const answer = await postToken(emulator, clientCredentials(emulator));
      expect(answer.status).toBe(429);
      expect(answer.headers.get('retry-after')).toBe('7');
      await expect(endpointFor(emulator).clientCredentials()).rejects.toMatchObject({
        code: 'FLUX_TOKEN_ENDPOINT',
        status: 429,
        retryAfterMs: 7000,
      });
    });

    it("'bad-json' answers 200 application/json with a body that does not parse", async () => {
      emulator.setFault('bad-json');
      const answer = await postToken(emulator, clientCredentials(emulator));
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(answer.json).toBeUndefined();
      await expect(endpointFor(emulator).clientCredentials()).rejects.toMatchObject({
        code: 'FLUX_INVALID_TOKEN_RESPONSE',
        reason: 'not_json',
      });
    });

    it("'html' answers 200 with an HTML page", async () => {
      emulator.setFault('html');
      const answer = await postToken(emulator, clientCredentials(emulator));
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
      expect(answer.text).toMatch(/^<!DOCTYPE html>/);
      await expect(endpointFor(emulator).clientCredentials()).rejects.toMatchObject({ reason: 'not_json' });
    });

    it("'truncated' promises a longer body than it sends, then closes the connection", async () => {
      emulator.setFault('truncated');
      const outcome = await rawPost(emulator.tokenUrl, clientCredentials(emulator));
      expect(outcome.status).toBe(200);
      expect(outcome.ended).toBe('aborted');
      expect(outcome.bytes).toBeGreaterThan(0);
      expect(outcome.bytes).toBeLessThan(Number(outcome.headers!['content-length']));
      // How the client classifies a cut-off 200 is its own business; the emulator's part is above.
      await expect(endpointFor(emulator).clientCredentials()).rejects.toBeInstanceOf(FluxTokenError);
    });

    it("'reset' destroys the socket without an answer", async () => {
      emulator.setFault('reset');
      const failure = postToken(emulator, clientCredentials(emulator));
      await expect(failure).rejects.toMatchObject({ cause: { code: 'ECONNRESET' } });
      await expect(endpointFor(emulator).clientCredentials()).rejects.toMatchObject({
        code: 'FLUX_TOKEN_REQUEST',
        reason: 'network',
      });
      expect(emulator.stats().tokenCalls).toMatchObject({ total: 2, byStatus: {} });
    });

    it("'hang' never answers: the client's timeout ends the request", async () => {
      emulator.setFault('hang');
      await expect(endpointFor(emulator, 300).clientCredentials()).rejects.toMatchObject({
        code: 'FLUX_TOKEN_REQUEST',
        reason: 'timeout',
      });
      expect(emulator.stats().tokenCalls).toMatchObject({ total: 1, byStatus: {} });
      // The client gave up and closed its socket, so the call is no longer in flight.
      await waitFor(() => emulator.stats().concurrentTokenCalls === 0);
    });
  });

  describe('malformed successes', () => {
    it.each([
      ['expires-in-zero', (a: Record<string, unknown>) => expect(a.expires_in).toBe(0), 'invalid_expires_in'],
      ['expires-in-negative', (a: Record<string, unknown>) => expect(a.expires_in).toBe(-3600), 'invalid_expires_in'],
      ['expires-in-nan', (a: Record<string, unknown>) => expect(a.expires_in).toBe('NaN'), 'invalid_expires_in'],
      ['expires-in-huge', (a: Record<string, unknown>) => expect(a.expires_in).toBe(1e12), 'invalid_expires_in'],
      ['no-access-token', (a: Record<string, unknown>) => expect(a).not.toHaveProperty('access_token'), 'invalid_access_token'],
      ['token-type-mac', (a: Record<string, unknown>) => expect(a.token_type).toBe('mac'), 'invalid_token_type'],
    ] as const)("'%s' answers 200 with that one field wrong", async (mode, check, reason) => {
      emulator.setFault(mode);
      const answer = await postToken(emulator, clientCredentials(emulator));
      expect(answer.status).toBe(200);
      check(answer.json!);
      const others = ['access_token', 'refresh_token', 'token_type', 'expires_in'].filter((k) => k in answer.json!);
      expect(others.length).toBeGreaterThanOrEqual(3);
      await expect(endpointFor(emulator).clientCredentials()).rejects.toMatchObject({
        code: 'FLUX_INVALID_TOKEN_RESPONSE',
        reason,
      });
    });

    it('still answers errors as errors', async () => {
      emulator.setFault('expires-in-zero');
      const answer = await postToken(emulator, clientCredentials(emulator, { client_secret: 'wrong' }));
      expect(answer.status).toBe(401);
      expect(answer.json).toMatchObject({ error: 'invalid_client' });
    });
  });

  describe('count and recovery', () => {
    it('applies a fault to the next `count` requests only', async () => {
      emulator.setFault('500', { count: 2 });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await postToken(emulator, clientCredentials(emulator))).status);
      expect(statuses).toEqual([500, 500, 200]);
    });

    it("keeps a fault without a count until setFault('none')", async () => {
      emulator.setFault('html');
      for (let i = 0; i < 3; i++) expect((await postToken(emulator, clientCredentials(emulator))).status).toBe(200);
      expect(emulator.stats().tokenCalls.byStatus).toEqual({ '200': 3 });
      emulator.setFault('none');
      expect((await postToken(emulator, clientCredentials(emulator))).json).toHaveProperty('access_token');
    });

    it.each(['500', '429', 'bad-json', 'html', 'truncated', 'reset'] as TokenFault[])(
      "'%s' does not spend the refresh token presented",
      async (mode) => {
        const { refreshToken } = await issue(emulator, 'user-1');
        emulator.setFault(mode, { count: 1 });
        const form = { grant_type: 'refresh_token', refresh_token: refreshToken };
        await rawPost(emulator.tokenUrl, form);
        const retried = await postToken(emulator, form);
        expect(retried.status).toBe(200);
        expect(emulator.stats().tokenCalls.byGrant).toEqual({ client_credentials: 1, refresh_token: 2 });
        expect(emulator.stats().tokenCalls.byScope).toEqual({ 'user-1': 3 });
      },
    );

    it('a malformed success hands back the unspent refresh token, which still works exactly once', async () => {
      const { refreshToken } = await issue(emulator);
      emulator.setFault('expires-in-zero', { count: 1 });
      const form = { grant_type: 'refresh_token', refresh_token: refreshToken };
      const faulted = await postToken(emulator, form);
      expect(faulted.json).toMatchObject({ refresh_token: refreshToken, expires_in: 0 });
      expect((await postToken(emulator, form)).status).toBe(200);
      expect((await postToken(emulator, form)).json).toMatchObject({ error: 'invalid_grant' });
    });

    it('rejects an unknown mode or a bad count with an InvalidArgumentError', () => {
      expect(() => emulator.setFault('503' as TokenFault)).toThrow(InvalidArgumentError);
      expect(() => emulator.setFault('500', { count: 1.5 })).toThrow(InvalidArgumentError);
      expect(() => emulator.setFault('500', 3 as never)).toThrow(InvalidArgumentError);
      expect(TOKEN_FAULTS).toContain('expires-in-nan');
    });
  });

  describe('concurrency and close()', () => {
    it('reports concurrent and peak token calls, e.g. requests held by a hang', async () => {
      emulator.setFault('hang');
      const controller = new AbortController();
      const pending = [1, 2, 3].map(() =>
        postToken(emulator, clientCredentials(emulator), { signal: controller.signal }).catch(() => 'aborted'),
      );
      await waitFor(() => emulator.stats().concurrentTokenCalls === 3);
      controller.abort();
      expect(await Promise.all(pending)).toEqual(['aborted', 'aborted', 'aborted']);
      await waitFor(() => emulator.stats().concurrentTokenCalls === 0);
      expect(emulator.stats().peakConcurrentTokenCalls).toBe(3);
    });

    it('delays answers by `latency` ms', async () => {
      const slow = await startEmulator({ latency: 100 });
      try {
        const started = performance.now();
        expect((await postToken(slow, clientCredentials(slow))).status).toBe(200);
        expect(performance.now() - started).toBeGreaterThanOrEqual(95);
      } finally {
        await slow.close();
      }
    });

    it('close() ends hung requests and requests waiting on latency, and is idempotent', async () => {
      const servers = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
      const closing = await startEmulator({ latency: 60_000 });
      const listening = servers();
      const slowCall = rawPost(closing.tokenUrl, clientCredentials(closing));
      await waitFor(() => closing.stats().concurrentTokenCalls === 1);
      closing.setFault('hang');
      const hungCall = rawPost(closing.tokenUrl, clientCredentials(closing));
      await waitFor(() => closing.stats().concurrentTokenCalls === 2);

      await Promise.all([closing.close(), closing.close()]);
      await closing.close();
      expect((await slowCall).ended).toBe('error');
      expect((await hungCall).ended).toBe('error');
      await waitFor(() => closing.stats().concurrentTokenCalls === 0);
      await waitFor(() => servers() === listening - 1);
      await expect(fetch(closing.tokenUrl, { method: 'POST' })).rejects.toThrow();
    });
  });

  it('serves the API normally while the token endpoint is faulted', async () => {
    const { accessToken } = await issue(emulator, '5');
    emulator.setFault('500');
    expect((await callApi(emulator, '/users/5', `Bearer ${accessToken}`)).status).toBe(200);
  });
});
