/**
 * `/users/:id/...`: a small per-user API that checks bearer tokens the way Flux's does. It answers
 * 200 only for a token this emulator signed, unexpired by the injected clock, and either
 * client-wide or restricted to exactly `:id`. Each 401 is counted by reason, so a test can prove,
 * for instance, that a client under load never sent one user's token for another (`wrong-user`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorContext } from './context.js';
import { sendJson } from './respond.js';
import type { UnauthorizedReason } from './stats.js';

/** Paths under this prefix belong to the per-user API. */
export const API_PREFIX = '/users';

const USER_PATH = /^\/users\/([^/]+)(?:\/.*)?$/;
const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;
const REALM = 'realm="flux-emulator"';

const DESCRIPTIONS: Record<UnauthorizedReason, string> = {
  missing: 'A bearer token is required',
  unknown: 'The token was not issued by this server',
  expired: 'The token has expired',
  'wrong-user': 'The token is restricted to another user',
  forced: 'Emulated authorization failure',
};

function refuse(ctx: EmulatorContext, res: ServerResponse, reason: UnauthorizedReason): void {
  ctx.stats.apiAnswered(401, reason);
  const description = DESCRIPTIONS[reason];
  // RFC 6750 §3: a request without credentials gets no error code; a bad token gets invalid_token.
  const challenge =
    reason === 'missing' ? `Bearer ${REALM}` : `Bearer ${REALM}, error="invalid_token", error_description="${description}"`;
  sendJson(
    res,
    401,
    { error: reason === 'missing' ? 'unauthorized' : 'invalid_token', error_description: description, reason },
    { 'www-authenticate': challenge },
  );
}

/** Why `authorization` does not open `/users/<user>`, or undefined when it does. */
function authorize(ctx: EmulatorContext, authorization: string | undefined, user: string): UnauthorizedReason | undefined {
  const match = authorization === undefined ? null : BEARER.exec(authorization);
  if (match === null) return 'missing';
  const token = ctx.issuer.check(match[1]!) ?? ctx.opaqueTokens.check(match[1]!);
  if (token === undefined) return 'unknown';
  if (ctx.options.now() >= token.expiresAt) return 'expired';
  if (token.restrictedTo !== null && token.restrictedTo !== user) return 'wrong-user';
  return undefined;
}

export function handleApiRequest(ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse, path: string): void {
  const match = USER_PATH.exec(path);
  let user: string | undefined;
  try {
    user = match === null ? undefined : decodeURIComponent(match[1]!);
  } catch {
    user = undefined;
  }
  if (user === undefined) {
    ctx.stats.apiAnswered(404);
    sendJson(res, 404, { error: 'not_found', error_description: 'Use /users/<user id>/...' });
    return;
  }
  if (ctx.apiFault.take() === '401') {
    refuse(ctx, res, 'forced');
    return;
  }
  const reason = authorize(ctx, req.headers.authorization, user);
  if (reason !== undefined) {
    refuse(ctx, res, reason);
    return;
  }
  ctx.stats.apiAnswered(200);
  sendJson(res, 200, { user, path, method: req.method });
}
