/**
 * `@node-oauth/oauth2-server` 5.x, a strict RFC 6749 server written by others, in-process on
 * 127.0.0.1: a token endpoint and a per-user resource route that checks bearer tokens with the
 * server's own `authenticate` (the model's stored token, its expiry and its scope).
 *
 * The in-memory model issues a refresh token with the client-credentials grant (the library's
 * refresh path needs one), and the server requires client authentication on the refresh grant
 * (its default, RFC 6749 §6): a refresh without credentials is answered `400 invalid_client`.
 * Every token request is recorded, with whether it carried client credentials.
 */
import OAuth2Server, { Request, Response, type Client, type Token, type RefreshToken, type User } from '@node-oauth/oauth2-server';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface NodeOAuthRequest {
  grant: string | undefined;
  /** The client credentials came in the body or in a Basic header. */
  authenticated: boolean;
  status: number;
  error: string | undefined;
}

export interface NodeOAuthServer {
  tokenUrl: string;
  /** The resource route: `${apiUrl}/users/<id>` answers 200 only to a valid token for that user. */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  requests: NodeOAuthRequest[];
  /** API answers by status. */
  api: Map<number, number>;
  close(): Promise<void>;
}

async function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

export async function startNodeOAuthServer({
  accessTokenLifetime = 2,
  clientSecret = 'node-oauth-secret',
}: { accessTokenLifetime?: number; clientSecret?: string } = {}): Promise<NodeOAuthServer> {
  const clientId = 'node-oauth-client';
  const client: Client = { id: clientId, grants: ['client_credentials', 'refresh_token'], accessTokenLifetime };
  const service: User = { id: 'service' };
  const accessTokens = new Map<string, Token>();
  const refreshTokens = new Map<string, RefreshToken>();

  const oauth = new OAuth2Server({
    model: {
      getClient: async (id: string, secret: string | null) =>
        id === clientId && (secret === null || secret === clientSecret) ? client : false,
      getUserFromClient: async () => service,
      // A user id (or none, for a client-wide token) is the whole scope.
      validateScope: async (_user: User, _client: Client, scope?: string[]) => scope ?? [],
      verifyScope: async (token: Token, scope: string[]) => scope.every((s) => (token.scope ?? []).includes(s)),
      saveToken: async (token: Token) => {
        const saved: Token = { ...token, client, user: service };
        // The client-credentials grant of node-oauth issues no refresh token: this model adds one.
        if (saved.refreshToken === undefined) {
          saved.refreshToken = randomBytes(24).toString('base64');
          saved.refreshTokenExpiresAt = new Date(Date.now() + 3_600_000);
        }
        accessTokens.set(saved.accessToken, saved);
        refreshTokens.set(saved.refreshToken!, {
          refreshToken: saved.refreshToken!,
          refreshTokenExpiresAt: saved.refreshTokenExpiresAt!,
          scope: saved.scope,
          client,
          user: service,
        });
        return saved;
      },
      getAccessToken: async (token: string) => accessTokens.get(token) ?? false,
      getRefreshToken: async (token: string) => refreshTokens.get(token) ?? false,
      revokeToken: async (token: RefreshToken) => refreshTokens.delete(token.refreshToken),
    },
  });

  const requests: NodeOAuthRequest[] = [];
  const api = new Map<number, number>();
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const body = await readForm(req);
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const request = new Request({ method: req.method ?? 'GET', headers, query: Object.fromEntries(url.searchParams), body });
      const response = new Response({ headers: {} });
      if (url.pathname === '/token') {
        try {
          await oauth.token(request, response);
        } catch {
          // The error answer is in `response`.
        }
        requests.push({
          grant: body.grant_type,
          authenticated: body.client_secret !== undefined || /^basic /i.test(req.headers.authorization ?? ''),
          status: response.status ?? 200,
          error: (response.body as { error?: string } | undefined)?.error,
        });
      } else {
        const user = decodeURIComponent(url.pathname.split('/')[2] ?? '');
        try {
          await oauth.authenticate(request, response, { scope: [user] });
          response.status = 200;
          response.body = { user };
        } catch (error) {
          // `authenticate` throws without touching `response`: 401 for an invalid or expired
          // token, 403 for another user's token, as the error's `code`.
          response.status = (error as { code?: number }).code ?? 500;
          response.body = { error: (error as { name?: string }).name };
        }
        api.set(response.status ?? 500, (api.get(response.status ?? 500) ?? 0) + 1);
      }
      res.writeHead(response.status ?? 200, { ...(response.headers as Record<string, string>), 'content-type': 'application/json' });
      res.end(JSON.stringify(response.body ?? {}));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  return {
    tokenUrl: `${base}/token`,
    apiUrl: base,
    clientId,
    clientSecret,
    requests,
    api,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
