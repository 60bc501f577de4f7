/**
 * The OAuth2 rules of the token endpoint, without HTTP: which form is a valid client-credentials or
 * refresh request, and which RFC 6749 §5.2 error answers an invalid one. Deciding is separate from
 * spending the refresh token, so that a faulted answer can leave the rotation state untouched.
 */
import { timingSafeEqual } from 'node:crypto';
import type { RefreshTokens } from './refresh-tokens.js';
import type { OAuthError } from './respond.js';

/** A request the endpoint will honour, and the user id the token is for (null: client-wide). */
export type GrantDecision =
  | { ok: true; grant: 'client_credentials'; scope: string | null }
  | { ok: true; grant: 'refresh_token'; scope: string | null; refreshToken: string }
  | { ok: false; status: number; body: OAuthError };

function refuse(status: number, error: string, description: string): GrantDecision {
  return { ok: false, status, body: { error, error_description: description } };
}

/** Compares in constant time, as a real server must, so the emulator sets no bad example. */
function same(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What the client says about itself in the form: absent, matching, or not. */
function clientAuth(params: Map<string, string>, clientId: string, clientSecret: string): 'absent' | 'valid' | 'invalid' {
  const id = params.get('client_id');
  const secret = params.get('client_secret');
  if (id === undefined && secret === undefined) return 'absent';
  return id !== undefined && secret !== undefined && same(id, clientId) && same(secret, clientSecret) ? 'valid' : 'invalid';
}

/** Decides a token request from its form. Reads `refreshTokens` but never spends one. */
export function decideGrant(
  params: Map<string, string>,
  { clientId, clientSecret, refreshTokens }: { clientId: string; clientSecret: string; refreshTokens: RefreshTokens },
): GrantDecision {
  const grant = params.get('grant_type');
  if (grant === undefined || grant === '') return refuse(400, 'invalid_request', 'The grant_type parameter is required');
  const auth = clientAuth(params, clientId, clientSecret);

  if (grant === 'client_credentials') {
    if (auth !== 'valid') return refuse(401, 'invalid_client', 'Client authentication failed');
    const scope = params.get('scope');
    if (scope === '') return refuse(400, 'invalid_request', 'The scope parameter, when given, must be a user id');
    return { ok: true, grant, scope: scope ?? null };
  }

  if (grant === 'refresh_token') {
    if (auth === 'invalid') return refuse(401, 'invalid_client', 'Client authentication failed');
    const refreshToken = params.get('refresh_token');
    if (refreshToken === undefined || refreshToken === '') {
      return refuse(400, 'invalid_request', 'The refresh_token parameter is required');
    }
    const known = refreshTokens.peek(refreshToken);
    if (known === undefined) return refuse(400, 'invalid_grant', 'The refresh token is invalid, expired or already used');
    const scope = params.get('scope');
    if (scope !== undefined && scope !== known.scope) {
      return refuse(400, 'invalid_scope', 'A refreshed token keeps the scope it was issued with');
    }
    return { ok: true, grant, scope: known.scope, refreshToken };
  }

  return refuse(400, 'unsupported_grant_type', 'Supported grant types: client_credentials, refresh_token');
}
