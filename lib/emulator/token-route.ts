/**
 * `POST /auth/oauth/token`: Flux's token endpoint as its documentation describes it, plus the switchable
 * faults. Every request is counted, faulted or not, so that a test can compare a client's calls
 * with the floor.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorContext } from './context.js';
import { parseForm, readBody } from './form.js';
import { decideGrant } from './grants.js';
import { sendJson } from './respond.js';
import { isMalformedFault, isTransportFault, malform, sendTransportFault } from './token-faults.js';

/** The path of the token endpoint, as on Flux. */
export const TOKEN_PATH = '/auth/oauth/token';

/** The user a refreshed token is for, under the `refreshScope` mode. */
function refreshedScope(scope: string | null, mode: 'keep' | 'drop' | 'change'): string | null {
  if (mode === 'keep') return scope;
  if (mode === 'drop') return null;
  return scope === null ? 'another-user' : `${scope}-other`;
}

export async function handleTokenRequest(ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { stats, options } = ctx;
  stats.tokenCallStarted();
  // 'close' fires once the answer is sent or the connection is gone, hung requests included.
  res.once('close', () => stats.tokenCallEnded());

  if (req.method !== 'POST') {
    stats.tokenAnswered(405);
    sendJson(res, 405, { error: 'invalid_request', error_description: 'Use POST' }, { allow: 'POST' });
    return;
  }
  const body = await readBody(req);
  if (body === null) return; // The client went away.
  if (options.latency > 0 && !(await ctx.wait(options.latency))) return;

  if (body === 'too-large') {
    stats.tokenAnswered(413);
    sendJson(res, 413, { error: 'invalid_request', error_description: 'The request body is too large' });
    return;
  }
  const form = parseForm(req.headers['content-type'], body);
  const params = form.ok ? form.params : new Map<string, string>();
  const grant = params.get('grant_type');
  if (grant === 'client_credentials') stats.tokenGrant(grant, params.get('scope') || null);
  else if (grant === 'refresh_token') stats.tokenGrant(grant, ctx.refreshTokens.peek(params.get('refresh_token') ?? '')?.scope);
  else stats.tokenGrant(grant, undefined);

  const fault = ctx.tokenFault.take();
  if (isTransportFault(fault)) {
    sendTransportFault(ctx, fault, req, res);
    return;
  }

  if (!form.ok) {
    stats.tokenAnswered(400, 'invalid_request');
    sendJson(res, 400, { error: 'invalid_request', error_description: form.description });
    return;
  }
  const decision = decideGrant(params, req.headers.authorization, { ...options, refreshTokens: ctx.refreshTokens });
  if (!decision.ok) {
    const status = options.refusalStatus ?? decision.status;
    stats.tokenAnswered(status, decision.body.error);
    sendJson(res, status, decision.body);
    return;
  }

  // A malformed answer must not change the rotation state: the presented refresh token stays
  // unspent and is handed back, so that the client can recover once the fault is gone.
  const faulted = isMalformedFault(fault);
  const scope = decision.grant === 'refresh_token' ? refreshedScope(decision.scope, options.refreshScope) : decision.scope;
  let refreshToken: string | undefined;
  if (decision.grant === 'refresh_token') {
    if (!faulted) ctx.refreshTokens.spend(decision.refreshToken);
    refreshToken = faulted ? decision.refreshToken : ctx.refreshTokens.issue(scope);
  } else if (options.issueRefreshTokens) {
    refreshToken = ctx.refreshTokens.issue(scope);
  }
  const minted = { now: options.now(), expiresIn: options.expiresIn, restrictedTo: scope };
  const answer: Record<string, unknown> = {
    access_token: options.opaqueTokens ? ctx.opaqueTokens.issue(minted) : ctx.issuer.issue(minted),
    ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
    token_type: 'bearer',
    ...(options.omitExpiresIn ? {} : { expires_in: options.expiresIn }),
    ...(options.answerScope === 'echo' && scope !== null ? { scope } : {}),
  };
  if (faulted) malform(answer, fault, options.expiresIn);
  stats.tokenAnswered(200);
  if (!faulted) stats.tokenIssued(decision.scope);
  sendJson(res, 200, answer);
}
