import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { TokenManager } from '../lib/manager/token-manager.js';
import { scopeOfTestToken, startTokenServer, type TokenServer } from './helpers/scripted-token-server.js';

let server: TokenServer;
let manager: TokenManager;

beforeEach(async () => {
  server = await startTokenServer();
  manager = new TokenManager({ clientId: 'client-1', clientSecret: 'secret-1', tokenUrl: server.tokenUrl, request: { retry: 0 } });
});

afterEach(async () => {
  await manager.close();
  await server.close();
});

describe('one flight per scope', () => {
  it('200 scopes × 10 concurrent callers cause exactly 200 token requests, each for its own scope', async () => {
    const scopes = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    const results = await Promise.all(scopes.flatMap((scope) => Array.from({ length: 10 }, () => manager.getToken(scope).then((t) => ({ scope, t })))));
    expect(server.requests).toHaveLength(200);
    for (const scope of scopes) expect(server.callsFor(scope)).toBe(1);
    for (const { scope, t } of results) expect(scopeOfTestToken(t.accessToken)).toBe(scope);
    expect(manager.stats()).toMatchObject({ endpointCalls: { client_credentials: 200, refresh_token: 0, total: 200 }, cached: 200, inFlight: 0 });
  });

  it('the client-wide token has its own key, distinct from user ids that look empty or special', async () => {
    const wide = await manager.getToken();
    const specials = ['undefined', '__proto__', 'constructor', 'null', '*'];
    for (const scope of specials) {
      const token = await manager.getToken(scope);
      expect(scopeOfTestToken(token.accessToken)).toBe(scope);
      expect(token.accessToken).not.toBe(wide.accessToken);
    }
    expect(scopeOfTestToken((await manager.getToken()).accessToken)).toBeUndefined();
    expect(server.requests.map((r) => r.form.scope)).toEqual([undefined, ...specials]);
    await expect(manager.getToken('')).rejects.toMatchObject({ code: 'FLUX_INVALID_ARGUMENT' });
    expect(server.requests).toHaveLength(1 + specials.length);
  });
});
