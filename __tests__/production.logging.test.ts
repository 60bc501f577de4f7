// docs/production.md, "Logging": the manager's events logged with pino, as the guide shows, leave
// no secret in the log. Every token and secret the client sees carries a marker (the marker proxy
// in front of the emulator), so a marker in any log line is a leak.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import pino, { type Logger } from 'pino';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import { MARK, MARKED_CLIENT_SECRET, startMarkerProxy, type MarkerProxy } from './helpers/marker-proxy.js';

/** The recipe of docs/production.md, verbatim. */
function logTokenEvents(tokens: TokenManager, log: Logger): void {
  tokens.on('token', (e) => log.debug({ flux: e }, 'flux token'));
  tokens.on('refreshFailed', ({ error, ...e }) => log.warn({ flux: e, err: error }, 'flux token request failed'));
  tokens.on('evicted', (e) => log.debug({ flux: e }, 'flux token evicted'));
  tokens.on('store', (e) => log.warn({ flux: e }, 'flux token store'));
}

interface LogLine {
  msg: string;
  flux: Record<string, unknown>;
  err?: Record<string, unknown>;
}

let emulator: Emulator;
let proxy: MarkerProxy;
let raw: string[];
let log: Logger;
const managers: TokenManager[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ clientSecret: MARKED_CLIENT_SECRET });
  proxy = await startMarkerProxy(emulator.url);
});

afterAll(async () => {
  await proxy?.close();
  await emulator?.close();
});

beforeEach(() => {
  raw = [];
  // pino writes each line, synchronously, to any object with write().
  log = pino({ level: 'debug' }, { write: (line: string) => void raw.push(line) });
});

afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
  emulator.setFault('none');
});

function manager(options: Partial<ConstructorParameters<typeof TokenManager>[0]> = {}): TokenManager {
  const tokens = new TokenManager({
    tokenUrl: proxy.tokenUrl,
    clientId: emulator.clientId,
    clientSecret: MARKED_CLIENT_SECRET,
    ...options,
    request: { retry: 0, ...options.request },
  });
  managers.push(tokens);
  logTokenEvents(tokens, log);
  return tokens;
}

const lines = () => raw.map((line) => JSON.parse(line) as LogLine);

describe('logging the events with pino', () => {
  it('logs issues, refreshes, failures of both grants and evictions, with no token and no secret', async () => {
    const tokens = manager({ maxScopes: 2 });
    const first = await tokens.getToken('user-1');
    // A refresh: the form carries the (marked) refresh token; every client-credentials form, the client secret.
    tokens.invalidate('user-1', first);
    await tokens.getToken('user-1');
    // Failures: a 500 for the refresh grant, a reset for a client-credentials request. (Another user:
    // a token that replaced a rejected one and is rejected at once waits out a cool-down first.)
    tokens.invalidate('user-6', await tokens.getToken('user-6'));
    emulator.setFault('500', { count: 1 });
    await tokens.getToken('user-6').catch(() => undefined);
    emulator.setFault('reset', { count: 1 });
    await expect(tokens.getToken('user-2')).rejects.toMatchObject({ code: 'FLUX_TOKEN_REQUEST' });
    // Evictions: a third and fourth user in a cache of two.
    await tokens.getToken('user-3');
    await tokens.getToken('user-4');
    // Refused client credentials: the secret was sent, and refused.
    await expect(manager({ clientSecret: `${MARKED_CLIENT_SECRET}-wrong` }).getToken('user-5')).rejects.toMatchObject({
      code: 'FLUX_TOKEN_ENDPOINT',
    });

    const logged = lines();
    const byMessage = (msg: string) => logged.filter((line) => line.msg === msg);
    expect(byMessage('flux token').map((line) => line.flux.grant)).toEqual(expect.arrayContaining(['client_credentials', 'refresh_token']));
    const failures = byMessage('flux token request failed');
    expect(failures.map((line) => [line.flux.scope, line.flux.grant, line.err?.code])).toEqual(
      expect.arrayContaining([
        ['user-6', 'refresh_token', 'FLUX_TOKEN_ENDPOINT'],
        ['user-2', 'client_credentials', 'FLUX_TOKEN_REQUEST'],
        ['user-5', 'client_credentials', 'FLUX_TOKEN_ENDPOINT'],
      ]),
    );
    // The error is logged in full (type, message, stack, code, the OAuth fields), under `err`.
    const refused = failures.find((line) => line.flux.scope === 'user-5')!;
    expect(refused.err).toMatchObject({ type: 'TokenEndpointError', status: 401, error: 'invalid_client' });
    expect(refused.err!.stack).toEqual(expect.any(String));
    expect(byMessage('flux token evicted').length).toBeGreaterThanOrEqual(1);

    // The leak scan: markers were handed out, and none reached the log.
    expect(proxy.marked.accessTokens).toBeGreaterThanOrEqual(4);
    expect(proxy.marked.refreshTokens).toBeGreaterThanOrEqual(4);
    expect(raw.length).toBeGreaterThanOrEqual(8);
    const leaks = raw.filter((line) => line.includes(MARK) || line.includes(encodeURIComponent(MARKED_CLIENT_SECRET)));
    expect(leaks).toEqual([]);
  });
});
