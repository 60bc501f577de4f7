/**
 * The OAuth2 rules of the token endpoint, without HTTP: which form is a valid client-credentials or
 * refresh request, and which RFC 6749 §5.2 error answers an invalid one. Deciding is separate from
 * spending the refresh token, so that a faulted answer can leave the rotation state untouched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ResolvedEmulatorOptions } from './options.js';
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

/**
 * Compares in constant time, as a real server must, so the emulator sets no bad example. Both sides
 * are hashed first: timingSafeEqual needs inputs of one length, and returning early when the
 * lengths differ would tell a caller the length of the secret.
 */
function same(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Both comparisons, each always made: `&&` would skip the secret's when the id is wrong, and tell so by its time. */
function both(idMatches: boolean, secretMatches: boolean): boolean {
  return idMatches && secretMatches;
}

/** The client id and secret of an `Authorization: Basic` header (RFC 6749 §2.3.1), if it has one. */
function basicCredentials(authorization: string | undefined): { id: string; secret: string } | 'malformed' | undefined {
  if (authorization === undefined) return undefined;
  const match = /^Basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(authorization);
  if (match === null) return 'malformed';
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  try {
    const formDecode = (part: string) => decodeURIComponent(part.replace(/\+/g, ' '));
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return 'malformed';
  }
}

/**
 * What the client says about itself, in the form or in a Basic header: absent, matching, not
 * matching, sent with a method this client may not use, or sent twice (RFC 6749 §2.3: one method).
 */
function clientAuth(
  params: Map<string, string>,
  authorization: string | undefined,
  { clientId, clientSecret, clientAuthMethods }: Pick<ResolvedEmulatorOptions, 'clientId' | 'clientSecret' | 'clientAuthMethods'>,
): 'absent' | 'valid' | 'invalid' | 'twice' {
  const id = params.get('client_id');
  const secret = params.get('client_secret');
  const inForm = id !== undefined || secret !== undefined;
  const basic = basicCredentials(authorization);
  if (inForm && basic !== undefined) return 'twice';
  if (basic === 'malformed') return 'invalid';
  if (basic !== undefined) {
    if (!clientAuthMethods.includes('client_secret_basic')) return 'invalid';
    return both(same(basic.id, clientId), same(basic.secret, clientSecret)) ? 'valid' : 'invalid';
  }
  if (!inForm) return 'absent';
  if (!clientAuthMethods.includes('client_secret_post')) return 'invalid';
  return both(same(id ?? '', clientId), same(secret ?? '', clientSecret)) && id !== undefined && secret !== undefined ? 'valid' : 'invalid';
}

/** Decides a token request from its form. Reads `refreshTokens` but never spends one. */
export function decideGrant(
  params: Map<string, string>,
  authorization: string | undefined,
  options: ResolvedEmulatorOptions & { refreshTokens: RefreshTokens },
): GrantDecision {
  const { refreshTokens } = options;
  const grant = params.get('grant_type');
  if (grant === undefined || grant === '') return refuse(400, 'invalid_request', 'The grant_type parameter is required');
  const auth = clientAuth(params, authorization, options);
  if (auth === 'twice') return refuse(400, 'invalid_request', 'Use exactly one client authentication method');
  const badClient = () => refuse(options.invalidClientStatus, 'invalid_client', 'Client authentication failed');

  if (grant === 'client_credentials') {
    if (auth !== 'valid') return badClient();
    const scope = params.get('scope');
    if (scope === '') return refuse(400, 'invalid_request', 'The scope parameter, when given, must be a user id');
    return { ok: true, grant, scope: scope ?? null };
  }

  if (grant === 'refresh_token') {
    if (auth === 'invalid') return badClient();
    if (auth === 'absent' && options.refreshRequiresClientAuth !== undefined) {
      return refuse(400, options.refreshRequiresClientAuth, 'This client must authenticate to refresh a token');
    }
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
