/**
 * A small Flux-like API on 127.0.0.1 for the adapters' tests. It checks the token-to-user binding
 * of every `/users/:id/...` request with {@link scopeOfTestToken} (a token issued for another user
 * gets a 403), records each request with the Authorization header it carried, can be told to answer
 * the next requests with a status (401 by default) or to refuse one token, redirects on demand, and
 * can stand in front of a token server so that the API and the token URL share one origin.
 *
 * Routes:
 * - `GET|POST|... /users/:id/...` — needs `Bearer <token of :id>`; echoes `{ user, method, path, body }`.
 * - `GET /users/:id/items?page=N` — a JSON array of two items, with `Link: <...page=N+1>; rel="next"`
 *   up to `pages` pages (3 by default), for got.paginate.
 * - `ANY /public/...` — no check; echoes what it received.
 * - `ANY /redirect?to=<url>&status=<3xx>` — redirects there (302 by default).
 * - `POST /auth/oauth/token` — forwarded to `tokenServer` when one is given.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody, scopeOfTestToken } from './scripted-token-server.js';

/** One request that reached the API. */
export interface SeenRequest {
  method: string;
  /** Path and query. */
  path: string;
  authorization: string | undefined;
  /** Every header, as Node parsed them. */
  headers: IncomingHttpHeaders;
  body: string;
  /** The status the API answered. */
  status: number;
}

/** What a test can read and steer. */
export interface ApiServer {
  url: string;
  requests: SeenRequest[];
  /** The Authorization header of each request, in order (undefined when absent). */
  authorizations(): (string | undefined)[];
  /** Answers the next `count` requests (other than forwarded token requests) with `status`. */
  failNext(count: number, status?: number): void;
  /** Answers the next requests with these statuses in turn; `null` answers one normally. */
  script(statuses: (number | null)[]): void;
  /** Answers 401 to every request that carries this access token from now on. */
  revoke(accessToken: string): void;
  /** Resolves when `n` requests have been received in total. */
  waitForRequests(n: number): Promise<void>;
  /** Pages of `/users/:id/items`. */
  pages: number;
  close(): Promise<void>;
}

function userOf(token: string): { ok: true; user: string | undefined } | { ok: false } {
  try {
    return { ok: true, user: scopeOfTestToken(token) };
  } catch {
    return { ok: false };
  }
}

/** Starts the API on a free loopback port. With `tokenServer`, also forwards its token requests. */
export async function startApiServer({ tokenServer }: { tokenServer?: { tokenUrl: string } } = {}): Promise<ApiServer> {
  const script: (number | null)[] = [];
  const revoked = new Set<string>();
  const waiters: { n: number; resolve: () => void }[] = [];

  const state: Omit<ApiServer, 'url' | 'close'> = {
    requests: [],
    pages: 3,
    authorizations: () => state.requests.map((r) => r.authorization),
    failNext(count, status = 401) {
      for (let i = 0; i < count; i++) script.push(status);
    },
    script(statuses) {
      script.push(...statuses);
    },
    revoke(accessToken) {
      revoked.add(accessToken);
    },
    waitForRequests(n) {
      if (state.requests.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
  };

  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://api.invalid');

    if (tokenServer !== undefined && url.pathname === '/auth/oauth/token') {
      const upstream = await fetch(tokenServer.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded' },
        body,
      });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(await upstream.text());
      return;
    }

    const authorization = req.headers.authorization;
    const seen: SeenRequest = { method: req.method ?? 'GET', path: url.pathname + url.search, authorization, headers: req.headers, body, status: 0 };
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      seen.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };
    state.requests.push(seen);
    for (const w of waiters.filter((w) => state.requests.length >= w.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }

    const scripted = script.shift();
    if (scripted !== undefined && scripted !== null) return answer(scripted, { error: 'scripted' }, scripted === 401 ? { 'www-authenticate': 'Bearer error="invalid_token"' } : {});

    if (url.pathname === '/redirect') {
      seen.status = Number(url.searchParams.get('status') ?? 302);
      res.writeHead(seen.status, { location: url.searchParams.get('to') ?? '/' });
      res.end();
      return;
    }
    if (url.pathname.startsWith('/public/')) return answer(200, { method: seen.method, path: seen.path, authorization, body });

    const match = /^\/users\/([^/]+)\/(.*)$/.exec(url.pathname);
    if (!match) return answer(404, { error: 'not_found' });
    const user = decodeURIComponent(match[1]!);
    const bearer = /^Bearer (.+)$/.exec(authorization ?? '');
    const owner = bearer ? userOf(bearer[1]!) : undefined;
    if (!bearer || !owner?.ok || revoked.has(bearer[1]!)) {
      return answer(401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    if (owner.user !== user) return answer(403, { error: 'wrong_user', user, tokenUser: owner.user ?? null });

    if (match[2] === 'items') {
      const page = Number(url.searchParams.get('page') ?? 1);
      const headers: Record<string, string> = {};
      if (page < state.pages) headers.link = `</users/${match[1]}/items?page=${page + 1}>; rel="next"`;
      return answer(200, [`${user}-${page}-a`, `${user}-${page}-b`], headers);
    }
    return answer(200, { user, method: seen.method, path: seen.path, body });
  });
  server.keepAliveTimeout = 1000;

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as ApiServer;
}
