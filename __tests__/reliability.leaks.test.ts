/**
 * The leak scan: the whole fault matrix again, with a client secret, refresh tokens and access
 * tokens that all carry a marker (a proxy in front of the emulator marks the tokens; the emulator
 * accepts the marked secret). Every thrown error (message, stack, cause chain, util.inspect at full
 * depth, JSON), every event payload, the stats, every printed form of the manager, and everything
 * written to the console or to stdout/stderr is searched for the marker. The library must also
 * write nothing to the console at all.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import got, { HTTPError, RequestError } from 'got';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { authFetch, TokenManager, type Token } from '../lib/index.js';
import { gotAuth } from '../lib/http/got.js';
import { learnRefreshAuthentication } from './fixtures/refresh-authentication.js';
import { Capture, EXPIRES_IN, FAULT_CASES, RETRY_AFTER_SECONDS, coldFault, warmFault, type MatrixTarget } from './helpers/fault-matrix.js';
import { captureForms, errorForms, leaksIn, recordOutput, valueForms, type Output } from './helpers/leak-scan.js';
import { MARK, MARKED_CLIENT_SECRET, startMarkerProxy, type MarkerProxy } from './helpers/marker-proxy.js';
import { failOnUnhandledRejections, rejectionOf, within } from './helpers/reliability.js';

failOnUnhandledRejections();

let emulator: Emulator;
let proxy: MarkerProxy;
let output: { outputs: Output[]; restore: () => void };

beforeAll(async () => {
  // Refreshes sent without the client credentials are refused: each manager learns to send them,
  // so that the refresh grant carries the client secret too.
  emulator = await startEmulator({
    clientSecret: MARKED_CLIENT_SECRET,
    expiresIn: EXPIRES_IN,
    retryAfterSeconds: RETRY_AFTER_SECONDS,
    refreshRequiresClientAuth: 'invalid_client',
  });
  proxy = await startMarkerProxy(emulator.url);
  output = recordOutput();
});

afterEach(() => {
  // The library writes nothing to the console or to stdout/stderr, and nothing anyone wrote holds a marker.
  const written = output.outputs.splice(0);
  expect(written.filter((o) => o.fromLibrary)).toEqual([]);
  expect(leaksIn(written.map((o) => o.text))).toEqual([]);
});

afterAll(async () => {
  output.restore();
  await proxy.close();
  await emulator.close();
});

function targetFor(capture: Capture): MatrixTarget {
  // The refresh grant sends the client secret as well: every secret is on the wire in every case.
  return { emulator, tokenUrl: proxy.tokenUrl, clientSecret: MARKED_CLIENT_SECRET, prepare: (manager) => learnRefreshAuthentication(manager), capture };
}

/** The captured tokens: they must carry the marker, or the scan would prove nothing. */
function expectMarked(tokens: Token[]): void {
  expect(tokens.length).toBeGreaterThan(0);
  for (const token of tokens) {
    expect(token.accessToken).toContain(MARK);
    expect(token.refreshToken).toContain(MARK);
  }
}

describe('the scan itself', () => {
  it('finds the marker raw, form-encoded or down a cause chain, and the secret and tokens carry it', () => {
    const encoded = new URLSearchParams({ client_secret: MARKED_CLIENT_SECRET }).toString();
    const outer = new Error('outer');
    expect(leaksIn(errorForms(outer))).toEqual([]);
    expect(leaksIn(errorForms(new Error('outer', { cause: new Error(`inner ${encoded}`) }))).length).toBeGreaterThan(0);
    expect(leaksIn(errorForms(new Error('outer', { cause: { nested: [encodeURIComponent(MARKED_CLIENT_SECRET)] } }))).length).toBeGreaterThan(0);
    expect(leaksIn(valueForms({ deep: { deeper: { deepest: [MARKED_CLIENT_SECRET] } } }))).toHaveLength(2);
    expect(MARKED_CLIENT_SECRET).toMatch(/[+/=]/);
  });

  it('records console calls and stdout/stderr writes, with the marker in them', () => {
    console.warn(`a warning about ${MARKED_CLIENT_SECRET}`);
    process.stderr.write('');
    const written = output.outputs.splice(0);
    expect(written.map((o) => o.channel)).toEqual(['console.warn', 'stderr']);
    expect(written[0]).toMatchObject({ fromLibrary: false });
    expect(leaksIn(written.map((o) => o.text))).toHaveLength(1);
  });
});

describe('no marker in anything a fault produces', () => {
  it.each(FAULT_CASES.map((c) => [c.mode, c] as const))("'%s', cold and warm", async (_mode, c) => {
    const capture = new Capture();
    await coldFault(targetFor(capture), c);
    await warmFault(targetFor(capture), c);

    expectMarked(capture.values.filter((v): v is Token => typeof (v as Token).accessToken === 'string'));
    expect(capture.errors.length).toBeGreaterThanOrEqual(2);
    expect(leaksIn(captureForms(capture))).toEqual([]);
  });
});

describe('no marker in what the HTTP adapters produce', () => {
  it('errors of gotAuth and authFetch: a faulted token endpoint, and a 401 after the retry', async () => {
    const capture = new Capture();
    const manager = new TokenManager({
      clientId: emulator.clientId,
      clientSecret: MARKED_CLIENT_SECRET,
      tokenUrl: proxy.tokenUrl,
      request: { retry: 0 },
      cooldown: { base: 0 },
    });
    capture.watch(manager);
    await learnRefreshAuthentication(manager);
    const client = got.extend(gotAuth(manager), { retry: { limit: 0 } });
    const fetchAs = (user: string) => authFetch(manager, { scope: user });
    const api = (user: string) => `${proxy.url}/users/${user}/receipts`;
    try {
      // Through the proxy the API still works: the marked token is unmarked on the way.
      expect(await within(5_000, client.get(api('alice'), { context: { scope: 'alice' } }).json())).toMatchObject({ user: 'alice' });
      expect((await within(5_000, fetchAs('bob')(api('bob')))).status).toBe(200);
      capture.token(await within(5_000, manager.getToken('alice')));

      // A token endpoint that fails: the adapters reject with (or wrapping) the typed error.
      emulator.setFault('500');
      const gotError = await rejectionOf(client.get(api('carol'), { context: { scope: 'carol' } }));
      expect(gotError).toBeInstanceOf(RequestError);
      expect(gotError).toMatchObject({ code: 'FLUX_TOKEN_ENDPOINT' });
      const fetchError = await rejectionOf(fetchAs('dave')(api('dave')));
      expect(fetchError).toMatchObject({ code: 'FLUX_TOKEN_ENDPOINT', status: 500 });
      capture.error(gotError);
      capture.error(fetchError);
      emulator.setFault('none');

      // The API refuses every token: one renewal and one retry each, then the 401 goes back.
      emulator.setApiFault('401');
      const refused = await rejectionOf(client.get(api('alice'), { context: { scope: 'alice' } }));
      expect(refused).toBeInstanceOf(HTTPError);
      expect((refused as HTTPError).response.statusCode).toBe(401);
      capture.error(refused);
      const response = await within(5_000, fetchAs('bob')(api('bob')));
      expect(response.status).toBe(401);
      capture.values.push(response, await within(5_000, response.text()));
      capture.token(await within(5_000, manager.getToken('alice')));
    } finally {
      emulator.setFault('none');
      emulator.setApiFault('none');
      capture.snapshot(manager);
      await within(5_000, manager.close());
      capture.snapshot(manager);
    }

    expectMarked(capture.values.filter((v): v is Token => typeof (v as Token)?.accessToken === 'string'));
    expect(leaksIn(captureForms(capture))).toEqual([]);
  });
});
