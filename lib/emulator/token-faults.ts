/**
 * What each token-endpoint fault looks like on the wire. Transport faults replace the answer
 * entirely; malformed-success faults take a correct answer and break one field, the way a buggy
 * gateway or server release would.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorContext } from './context.js';
import { MALFORMED_SUCCESS_FAULTS, TRANSPORT_FAULTS, type TokenFault } from './faults.js';
import { sendJson } from './respond.js';

type TransportFault = (typeof TRANSPORT_FAULTS)[number];
type MalformedFault = (typeof MALFORMED_SUCCESS_FAULTS)[number];

export function isTransportFault(mode: TokenFault): mode is TransportFault {
  return (TRANSPORT_FAULTS as readonly string[]).includes(mode);
}

export function isMalformedFault(mode: TokenFault): mode is MalformedFault {
  return (MALFORMED_SUCCESS_FAULTS as readonly string[]).includes(mode);
}

const HTML_PAGE =
  '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>' +
  '<body><h1>Bad Gateway</h1><p>The upstream server is temporarily unavailable.</p></body></html>\n';

/** Answers (or refuses to answer) a token request with a transport fault. Nothing is issued or spent. */
export function sendTransportFault(ctx: EmulatorContext, mode: TransportFault, req: IncomingMessage, res: ServerResponse): void {
  const { stats } = ctx;
  switch (mode) {
    case '500':
      stats.tokenAnswered(500, 'server_error');
      sendJson(res, 500, { error: 'server_error', error_description: 'Emulated server error' });
      return;
    case '429':
      stats.tokenAnswered(429);
      sendJson(
        res,
        429,
        { error: 'too_many_requests', error_description: 'Emulated rate limit' },
        { 'retry-after': String(ctx.options.retryAfterSeconds) },
      );
      return;
    case 'hang':
      // No answer at all. The socket stays open until the client gives up or the emulator closes.
      return;
    case 'reset':
      req.socket.resetAndDestroy();
      return;
    case 'bad-json': {
      stats.tokenAnswered(200);
      const text = '{"access_token": eyJhbGciOiJSUzI1NiJ9, "token_type": bearer}';
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    case 'html':
      stats.tokenAnswered(200);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(HTML_PAGE) });
      res.end(HTML_PAGE);
      return;
    case 'truncated': {
      stats.tokenAnswered(200);
      // A real-looking answer whose refresh token was never registered, so nothing usable leaks out.
      const full = JSON.stringify({
        access_token: ctx.issuer.issue({ now: ctx.options.now(), expiresIn: ctx.options.expiresIn, restrictedTo: null }),
        refresh_token: randomBytes(64).toString('base64'),
        token_type: 'bearer',
        expires_in: ctx.options.expiresIn,
      });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(full) });
      res.write(full.slice(0, Math.floor(full.length / 2)));
      // End the connection short of the promised length: the client sees a premature close.
      res.socket?.end();
      return;
    }
  }
}

/** Breaks one field of a correct token answer, in place. */
export function malform(body: Record<string, unknown>, mode: MalformedFault, expiresIn: number): void {
  switch (mode) {
    case 'expires-in-zero':
      body.expires_in = 0;
      return;
    case 'expires-in-negative':
      body.expires_in = -expiresIn;
      return;
    case 'expires-in-nan':
      body.expires_in = 'NaN';
      return;
    case 'expires-in-huge':
      body.expires_in = 1e12;
      return;
    case 'no-access-token':
      delete body.access_token;
      return;
    case 'token-type-mac':
      body.token_type = 'mac';
      return;
  }
}
