/**
 * `oauth2-mock-server` 8.x, in-process on 127.0.0.1, plus a resource server that checks its JWTs
 * the way an API would: the signature against the issuer's JWKS, `exp`, and the user id in the
 * token's `scope` claim.
 *
 * Out of the box the mock issues no refresh token with the client-credentials grant, and answers a
 * refresh with `scope: "dummy"` (it does not remember what the refresh token was for). Its
 * documented hooks configure it here: 2 s tokens, and optionally a refresh token with each
 * client-credentials answer, and a refresh that keeps the scope (`refresh: 'keep-scope'`).
 */
import { createPublicKey, randomUUID, verify } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuth2Server } from 'oauth2-mock-server';

export interface MockTokenRequest {
  grant: string | undefined;
  /** The client credentials came in the body or in a Basic header. */
  authenticated: boolean;
  /** The `scope` of the answer. */
  scope: unknown;
}

export interface MockOAuthServer {
  tokenUrl: string;
  apiUrl: string;
  requests: MockTokenRequest[];
  /** API answers by status. */
  api: Map<number, number>;
  close(): Promise<void>;
}

export async function startMockOAuthServer({
  lifetime = 2,
  refresh = 'none',
}: { lifetime?: number; refresh?: 'none' | 'mock-default' | 'keep-scope' } = {}): Promise<MockOAuthServer> {
  const mock = new OAuth2Server();
  await mock.issuer.keys.generate('RS256');
  await mock.start(0, '127.0.0.1');
  const scopeOfRefreshToken = new Map<string, string>();
  const requests: MockTokenRequest[] = [];

  mock.service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }, req: { body: Record<string, string> }) => {
    token.payload.exp = Date.now() / 1000 + lifetime;
    if (refresh === 'keep-scope' && req.body.grant_type === 'refresh_token') {
      token.payload.scope = scopeOfRefreshToken.get(req.body.refresh_token ?? '');
    }
  });
  mock.service.on(
    'beforeResponse',
    (response: { body: Record<string, unknown> }, req: { body: Record<string, string>; headers: Record<string, string | undefined> }) => {
      const body = response.body;
      body.expires_in = lifetime;
      const grant = req.body.grant_type;
      if (refresh !== 'none' && grant === 'client_credentials') body.refresh_token = randomUUID();
      if (refresh === 'keep-scope' && grant === 'refresh_token') body.scope = scopeOfRefreshToken.get(req.body.refresh_token ?? '');
      if (typeof body.refresh_token === 'string' && typeof body.scope === 'string') scopeOfRefreshToken.set(body.refresh_token, body.scope);
      requests.push({
        grant,
        authenticated: req.body.client_secret !== undefined || /^basic /i.test(req.headers.authorization ?? ''),
        scope: body.scope,
      });
    },
  );

  const keys = new Map((mock.issuer.keys.toJSON() as { kid: string }[]).map((jwk) => [jwk.kid, createPublicKey({ key: jwk, format: 'jwk' })]));
  /** Why `authorization` does not open `/users/<user>`, or undefined when it does. */
  const check = (authorization: string | undefined, user: string): number => {
    const [header, payload, signature] = (authorization ?? '').replace(/^Bearer /, '').split('.');
    if (header === undefined || payload === undefined || signature === undefined) return 401;
    const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string };
    const key = keys.get(kid);
    if (key === undefined || !verify('sha256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url'))) return 401;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { exp: number; scope?: string };
    if (claims.exp * 1000 <= Date.now()) return 401;
    return (claims.scope ?? '').split(' ').includes(user) ? 200 : 403;
  };
  const api = new Map<number, number>();
  const resource: Server = createServer((req, res) => {
    const user = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname.split('/')[2] ?? '');
    const status = check(req.headers.authorization, user);
    api.set(status, (api.get(status) ?? 0) + 1);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ user }));
  });
  await new Promise<void>((resolve) => resource.listen(0, '127.0.0.1', resolve));

  return {
    tokenUrl: `${mock.issuer.url}/token`,
    apiUrl: `http://127.0.0.1:${(resource.address() as AddressInfo).port}`,
    requests,
    api,
    async close() {
      resource.closeAllConnections();
      await new Promise<void>((resolve) => resource.close(() => resolve()));
      await mock.stop();
    },
  };
}
