/**
 * Scope binding: a token answer must be for the user it was asked for. A server or proxy bug that
 * answers one user's request with another user's token (a refresh that drops or changes the scope,
 * a scope silently dropped) is caught here, on every answer, before the token can be cached,
 * stored or handed out.
 */
import { InvalidTokenResponseError } from '../shared/errors.js';
import type { FluxClaims } from './jws.js';

/**
 * Whether a `restrictedTo` value means "not restricted": null, or the empty object that Flux's own
 * sample token carries for a client-wide token.
 */
function unrestricted(value: unknown): boolean {
  return value === null || (typeof value === 'object' && !Array.isArray(value) && Object.keys(value as object).length === 0);
}

/**
 * Throws `InvalidTokenResponseError` with reason `scope_mismatch` when the answer is bound to
 * another scope than `scope` (a user id, or undefined for the client-wide token):
 * - a `scope` field (RFC 6749 §3.3, space-separated) must list the requested user id;
 * - a `restrictedTo` claim in the access token's `claims` (undefined for an opaque token) must equal it, and be null or absent for
 *   the client-wide token (or `{}`, as in Flux's sample token).
 * - with `requireUserBinding`, an answer for a user must show it, by `scope` or by `restrictedTo`
 *   (reason `unbound_token`).
 * Messages name the check, never the token.
 */
export function checkScopeBinding(
  json: Record<string, unknown>,
  claims: FluxClaims | undefined,
  scope: string | undefined,
  status: number,
  requireUserBinding = false,
): void {
  const named = json.scope !== undefined && json.scope !== null;
  if (requireUserBinding && scope !== undefined && !named && (claims === undefined || !Object.hasOwn(claims, 'restrictedTo'))) {
    throw new InvalidTokenResponseError('unbound_token', status, 'the answer names no `scope` and its access token does not show its user');
  }
  if (scope !== undefined && named) {
    const listed = typeof json.scope === 'string' ? json.scope.split(' ') : [];
    if (!listed.includes(scope)) {
      throw new InvalidTokenResponseError('scope_mismatch', status, 'the answer\'s `scope` does not include the requested user id');
    }
  }
  if (claims === undefined || !Object.hasOwn(claims, 'restrictedTo')) return;
  const ok = scope === undefined ? unrestricted(claims.restrictedTo) : claims.restrictedTo === scope;
  if (!ok) {
    throw new InvalidTokenResponseError(
      'scope_mismatch',
      status,
      scope === undefined
        ? 'the access token is restricted to a user, but a client-wide token was requested'
        : 'the access token\'s `restrictedTo` claim is not the requested user id',
    );
  }
}
