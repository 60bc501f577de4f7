// docs/production.md, "Proxies" and "TLS": the `got` option carries a proxy agent (hpagent) and
// custom CAs, checked over real sockets: the token endpoint (the emulator) behind HTTPS on
// 127.0.0.1 with a certificate made for this run, reached through a local CONNECT proxy.
import got from 'got';
import { HttpsProxyAgent } from 'hpagent';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { startEmulator, TOKEN_PATH, type Emulator } from '../lib/emulator/index.js';
import { TokenRequestError } from '../lib/shared/errors.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import { selfSignedCertificate, startConnectProxy, startTlsFront, type ConnectProxy, type SelfSigned } from './helpers/tls-proxy.js';

let certificate: SelfSigned;
let emulator: Emulator;
let front: Awaited<ReturnType<typeof startTlsFront>>;
let tokenUrl: string;
let manager: TokenManager | undefined;

beforeAll(async () => {
  // nock's interceptor (active in every file, see helpers/setup.ts) cannot pass hpagent's CONNECT
  // request through ("Invalid URL"); this file needs real sockets only, so it is switched off.
  nock.restore();
  certificate = selfSignedCertificate();
  emulator = await startEmulator();
  front = await startTlsFront(certificate, Number(new URL(emulator.url).port));
  tokenUrl = `https://127.0.0.1:${front.port}${TOKEN_PATH}`;
});

afterAll(async () => {
  await front?.close();
  await emulator?.close();
});

beforeEach(() => emulator.resetStats());
afterEach(async () => {
  await manager?.close();
  manager = undefined;
});

/** A manager for the HTTPS token URL, sending with `client`. */
function managerWith(client: typeof got): TokenManager {
  manager = new TokenManager({ tokenUrl, clientId: emulator.clientId, clientSecret: emulator.clientSecret, request: { retry: 0, got: client } });
  return manager;
}

describe('TLS: a token endpoint with a private CA', () => {
  it('https.certificateAuthority on the got instance makes the endpoint trusted', async () => {
    const tokens = managerWith(got.extend({ https: { certificateAuthority: certificate.cert } }));
    const connectionsBefore = front.clientPorts.length;
    await expect(tokens.getToken('user-1')).resolves.toMatchObject({ scope: 'user-1', tokenType: 'bearer' });
    expect(emulator.stats().tokenCalls.total).toBe(1);
    expect(front.clientPorts.length).toBeGreaterThan(connectionsBefore);
  });

  it("without it, the certificate is refused: a TokenRequestError, and no request reaches the endpoint", async () => {
    const tokens = managerWith(got);
    const error = await tokens.getToken('user-1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({ code: 'FLUX_TOKEN_REQUEST', reason: 'network' });
    expect(emulator.stats().tokenCalls.total).toBe(0);
  });
});

describe('Proxies: an outbound CONNECT proxy through the got option (hpagent)', () => {
  let proxy: ConnectProxy;

  beforeEach(async () => {
    proxy = await startConnectProxy();
  });
  afterEach(() => proxy.close());

  it('every token request goes through a tunnel of the proxy, and the private CA still applies', async () => {
    const agent = new HttpsProxyAgent({ proxy: `http://127.0.0.1:${proxy.port}`, keepAlive: true });
    const client = got.extend({ agent: { https: agent }, https: { certificateAuthority: certificate.cert } });
    const tokens = managerWith(client);
    const connectionsBefore = front.clientPorts.length;
    try {
      const issued = await Promise.all(['user-1', 'user-2', 'user-3'].map((user) => tokens.getToken(user)));
      expect(issued.map((token) => token.scope)).toEqual(['user-1', 'user-2', 'user-3']);
    } finally {
      agent.destroy();
    }
    // The endpoint answered each user once...
    expect(emulator.stats().tokenCalls.total).toBe(3);
    expect(emulator.stats().tokenCalls.byScope).toEqual({ 'user-1': 1, 'user-2': 1, 'user-3': 1 });
    // ...over connections that all came out of the proxy's tunnels to the HTTPS front.
    expect(proxy.tunnels.length).toBeGreaterThanOrEqual(1);
    expect(new Set(proxy.tunnels)).toEqual(new Set([`127.0.0.1:${front.port}`]));
    const viaFront = front.clientPorts.slice(connectionsBefore);
    expect(viaFront).toHaveLength(proxy.tunnels.length);
    expect(new Set(viaFront)).toEqual(new Set(proxy.upstreamPorts));
    expect(proxy.plainRequests).toBe(0);
    expect(proxy.refused).toEqual([]);
  });

  it('a proxy that refuses the tunnel fails the request with a TokenRequestError, and nothing reaches the endpoint', async () => {
    // This proxy tunnels only to 127.0.0.1: a token URL naming localhost gets its 403.
    const agent = new HttpsProxyAgent({ proxy: `http://127.0.0.1:${proxy.port}` });
    manager = new TokenManager({
      tokenUrl: `https://localhost:${front.port}${TOKEN_PATH}`,
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
      request: {
        retry: 0,
        got: got.extend({ agent: { https: agent }, https: { certificateAuthority: certificate.cert } }),
      },
    });
    try {
      await expect(manager.getToken('user-1')).rejects.toMatchObject({ code: 'FLUX_TOKEN_REQUEST' });
    } finally {
      agent.destroy();
    }
    expect(proxy.refused).toEqual([`localhost:${front.port}`]);
    expect(proxy.tunnels).toEqual([]);
    expect(emulator.stats().tokenCalls.total).toBe(0);
  });
});
