/**
 * A small, scriptable OAuth2 token endpoint on 127.0.0.1 for the manager's and the adapters' tests.
 * It issues scope-encoded tokens (`at.<scope>.<n>`), so that a test can tell which user a token was
 * issued for, rotates refresh tokens strictly, counts every request it receives with its form, and
 * can be told to fail the next requests.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request that reached the server. */
export interface ReceivedRequest {
  form: Record<string, string>;
  grant: string | undefined;
  scope: string | undefined;
}

/** A scripted answer for the next request(s). */
export interface ScriptedAnswer {
  status: number;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

/** What a test can read and steer. */
export interface TokenServer {
  url: string;
  tokenUrl: string;
  requests: ReceivedRequest[];
  /** Requests received, per scope ('*' for client-wide). */
  callsFor(scope: string | undefined): number;
  /** Answers the next `count` requests with `answer` instead of a token. */
  failNext(count: number, answer: ScriptedAnswer): void;
  /** Drops the scripted answers not used yet: the next request is served normally (an outage ends). */
  endFailures(): void;
  /** Holds every request until `release()` is called (to create concurrency deterministically). */
  hold(): void;
  release(): void;
  /** Resolves when `n` requests have been received in total. */
  waitForRequests(n: number): Promise<void>;
  /** Token lifetime in seconds for the next tokens. */
  expiresIn: number;
  /** Whether answers carry a refresh token. */
  issueRefreshTokens: boolean;
  /** Refresh tokens that are still valid (strict rotation). */
  validRefreshTokens: Map<string, string | undefined>;
  close(): Promise<void>;
}

/** Reads a request's whole body as UTF-8 text (the test servers' bodies are small). */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (data += chunk));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

/** Decodes the scope a test token was issued for (`undefined` for client-wide). */
export function scopeOfTestToken(accessToken: string): string | undefined {
  const match = /^at\.(.*)\.(\d+)$/.exec(accessToken);
  if (!match) throw new Error('not a test token');
  const encoded = match[1]!;
  return encoded === '*' ? undefined : Buffer.from(encoded, 'base64url').toString('utf8');
}

/** Starts the server on a free loopback port. */
export async function startTokenServer({
  clientId = 'client-1',
  clientSecret = 'secret-1',
  expiresIn = 3600,
  now,
}: {
  clientId?: string;
  clientSecret?: string;
  expiresIn?: number;
  /** The server's clock, for its `Date` header; Node's own `Date` (the real clock) without it. */
  now?: () => number;
} = {}): Promise<TokenServer> {
  let issued = 0;
  const script: ScriptedAnswer[] = [];
  let held: (() => void)[] | undefined;
  const waiters: { n: number; resolve: () => void }[] = [];

  const state: Omit<TokenServer, 'url' | 'tokenUrl' | 'close'> = {
    requests: [],
    expiresIn,
    issueRefreshTokens: true,
    validRefreshTokens: new Map(),
    callsFor(scope) {
      return state.requests.filter((r) => r.scope === scope).length;
    },
    failNext(count, answer) {
      for (let i = 0; i < count; i++) script.push(answer);
    },
    endFailures() {
      script.length = 0;
    },
    hold() {
      held ??= [];
    },
    release() {
      const pending = held ?? [];
      held = undefined;
      for (const go of pending) go();
    },
    waitForRequests(n) {
      if (state.requests.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
  };

  const send = (res: ServerResponse, answer: ScriptedAnswer) => {
    const date = now === undefined ? {} : { date: new Date(now()).toUTCString() };
    res.writeHead(answer.status, { 'content-type': 'application/json', ...date, ...answer.headers });
    res.end(answer.raw ?? JSON.stringify(answer.body ?? {}));
  };

  const server: Server = createServer(async (req, res) => {
    const form = Object.fromEntries(new URLSearchParams(await readBody(req)));
    let scope = form.scope;
    if (form.grant_type === 'refresh_token') {
      scope = state.validRefreshTokens.has(form.refresh_token ?? '') ? state.validRefreshTokens.get(form.refresh_token!) : undefined;
    }
    state.requests.push({ form, grant: form.grant_type, scope });
    for (const w of waiters.filter((w) => state.requests.length >= w.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
    if (held) await new Promise<void>((resolve) => held!.push(resolve));

    const scripted = script.shift();
    if (scripted) return send(res, scripted);

    if (form.grant_type === 'client_credentials') {
      if (form.client_id !== clientId || form.client_secret !== clientSecret) {
        return send(res, { status: 401, body: { error: 'invalid_client' } });
      }
    } else if (form.grant_type === 'refresh_token') {
      const rt = form.refresh_token ?? '';
      if (!state.validRefreshTokens.has(rt)) return send(res, { status: 400, body: { error: 'invalid_grant' } });
      state.validRefreshTokens.delete(rt);
    } else {
      return send(res, { status: 400, body: { error: 'unsupported_grant_type' } });
    }
    issued++;
    const encoded = scope === undefined ? '*' : Buffer.from(scope).toString('base64url');
    const body: Record<string, unknown> = {
      access_token: `at.${encoded}.${issued}`,
      token_type: 'bearer',
      expires_in: state.expiresIn,
    };
    if (state.issueRefreshTokens) {
      const refreshToken = `rt+${issued}/${encoded}==`;
      state.validRefreshTokens.set(refreshToken, scope);
      body.refresh_token = refreshToken;
    }
    send(res, { status: 200, body });
  });
  server.keepAliveTimeout = 1000;

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return Object.assign(state, {
    url,
    tokenUrl: `${url}/auth/oauth/token`,
    close: () =>
      new Promise<void>((resolve) => {
        state.release();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as TokenServer;
}
