/**
 * A loopback proxy in front of the emulator that makes every token a client sees carry a marker,
 * for the leak scan: a marker found in an error, an event or a log line is a leaked secret.
 *
 * - Token answers: `access_token` becomes `LEAKMARK-at-<n>.<jws>.LEAKMARK-at-end`, and
 *   `refresh_token` a marker of its own (with `+`, `/` and `=`, like Flux's), mapped back to the
 *   emulator's on the way in. A body cut short (the `truncated` fault) is marked the same way.
 * - `Authorization: Bearer <marked>` on the per-user API is unmarked before it is forwarded, so the
 *   emulator still checks the real token.
 * - Every fault goes through as the client would see it from the emulator itself: status and
 *   `Retry-After` as sent, a reset answered by a reset, a hang by a hang (ended when the client
 *   gives up), a truncated body by a truncated body.
 */
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { TOKEN_PATH } from '../../lib/emulator/index.js';

/** The one string that every marker holds: the leak scan looks for it. */
export const MARK = 'LEAKMARK';

/** A client secret that is a marker, with the characters that form-encoding changes. */
export const MARKED_CLIENT_SECRET = `cs_${MARK}+s3cr3t/9f8e=${MARK}`;

const AT_HEAD = `${MARK}-at-`;
const AT_TAIL = `.${MARK}-at-end`;

/** A running marker proxy. */
export interface MarkerProxy {
  /** Base URL: the per-user API is at `${url}/users/...`. */
  readonly url: string;
  /** The token endpoint, through the proxy. */
  readonly tokenUrl: string;
  /** How many access and refresh tokens were marked so far. */
  readonly marked: { accessTokens: number; refreshTokens: number };
  close(): Promise<void>;
}

/** Starts a proxy to the emulator at `upstream` (its base URL). */
export async function startMarkerProxy(upstream: string): Promise<MarkerProxy> {
  const marked = { accessTokens: 0, refreshTokens: 0 };
  /** Marked refresh token -> the emulator's. */
  const refreshTokens = new Map<string, string>();
  const sockets = new Set<Socket>();

  const markAccess = (token: string) => `${AT_HEAD}${++marked.accessTokens}.${token}${AT_TAIL}`;
  const unmarkAccess = (token: string) =>
    token.startsWith(AT_HEAD) && token.endsWith(AT_TAIL) ? token.slice(token.indexOf('.') + 1, -AT_TAIL.length) : token;
  const markRefresh = (token: string) => {
    const markedToken = `${MARK}+rt/${++marked.refreshTokens}/${MARK}==`;
    refreshTokens.set(markedToken, token);
    return markedToken;
  };

  /** A complete token answer, with its tokens marked (unchanged when it is not a JSON object). */
  const markBody = (text: string): string => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return text;
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return text;
    const body = json as Record<string, unknown>;
    if (typeof body.access_token === 'string') body.access_token = markAccess(body.access_token);
    if (typeof body.refresh_token === 'string') body.refresh_token = markRefresh(body.refresh_token);
    return JSON.stringify(body);
  };

  /** The first part of a token answer (a body cut short): mark the start of each token in it. */
  const markPartial = (text: string): string =>
    text
      .replace(/"access_token":"/, `"access_token":"${AT_HEAD}0.`)
      .replace(/"refresh_token":"/, `"refresh_token":"${MARK}+rt/0/`);

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://proxy.invalid').pathname;
    const isToken = path === TOKEN_PATH;
    let outBody = body;
    const headers: IncomingHttpHeaders = { ...req.headers };
    delete headers.host;
    delete headers.connection;
    if (isToken) {
      const form = new URLSearchParams(body.toString('utf8'));
      const refreshToken = form.get('refresh_token');
      if (refreshToken !== null && refreshTokens.has(refreshToken)) {
        form.set('refresh_token', refreshTokens.get(refreshToken)!);
        outBody = Buffer.from(form.toString());
      }
    } else if (typeof headers.authorization === 'string') {
      const match = /^Bearer (.+)$/.exec(headers.authorization);
      if (match) headers.authorization = `Bearer ${unmarkAccess(match[1]!)}`;
    }
    headers['content-length'] = String(outBody.length);

    const up = request(`${upstream}${req.url ?? '/'}`, { method: req.method, headers, agent: false });
    let answered = false;
    // The client gave up (a timeout on a hung request): give up upstream too.
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    up.on('error', () => {
      // No answer came (the `reset` fault): the client gets a reset as well.
      if (!answered) req.socket.resetAndDestroy();
    });
    up.on('response', (upRes) => {
      answered = true;
      const chunks: Buffer[] = [];
      const passHeaders: Record<string, string> = {};
      for (const name of ['content-type', 'retry-after', 'cache-control', 'www-authenticate', 'allow']) {
        const value = upRes.headers[name];
        if (typeof value === 'string') passHeaders[name] = value;
      }
      upRes.on('data', (chunk: Buffer) => chunks.push(chunk));
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        const text = Buffer.concat(chunks).toString('utf8');
        if (!upRes.complete) {
          // The body was cut short (`truncated`): cut it short here too, marked.
          const partial = isToken ? markPartial(text) : text;
          const promised = Math.max(Number(upRes.headers['content-length'] ?? 0), Buffer.byteLength(partial) + 64);
          res.writeHead(upRes.statusCode ?? 502, { ...passHeaders, 'content-length': String(promised) });
          res.write(partial);
          res.socket?.end();
          return;
        }
        const out = isToken && upRes.statusCode === 200 ? markBody(text) : text;
        res.writeHead(upRes.statusCode ?? 502, { ...passHeaders, 'content-length': String(Buffer.byteLength(out)) });
        res.end(out);
      };
      upRes.on('end', finish);
      upRes.on('error', finish);
      upRes.on('close', finish);
    });
    up.end(outBody);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => forward(req, res, Buffer.concat(chunks)));
    req.on('error', () => res.destroy());
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    tokenUrl: `${url}${TOKEN_PATH}`,
    marked,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      })),
  };
}
