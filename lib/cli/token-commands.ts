/**
 * `flux-token token`, `refresh` and `decode`: the seed's two calls, and a reader for Flux tokens.
 * These print tokens on purpose: the person running them asked for one.
 */
import { decodeJws } from '../jws.js';
import type { Token } from '../token.js';
import { TokenEndpoint } from '../token-endpoint.js';
import { resolveEndpoint, type EndpointFlags } from './credentials.js';

/** The answer in the endpoint's own JSON shape, as the seed shows it. */
function asSeedJson(token: Token): string {
  const body: Record<string, unknown> = {
    access_token: token.accessToken,
    ...(token.refreshToken === undefined ? {} : { refresh_token: token.refreshToken }),
    token_type: token.tokenType,
    expires_in: token.expiresIn,
  };
  return JSON.stringify(body, null, 2);
}

function endpointFrom(flags: EndpointFlags, { required = true, withClientCredentials = false } = {}): TokenEndpoint {
  return new TokenEndpoint({
    ...resolveEndpoint(flags, { required }),
    refreshWithClientCredentials: withClientCredentials,
    ...(flags.timeout === undefined ? {} : { timeout: flags.timeout }),
    retry: flags.retry ?? 0,
  });
}

/** `token [--scope USER]`: the client-credentials grant. */
export async function tokenCommand(flags: EndpointFlags & { scope?: string }, out: (line: string) => void): Promise<void> {
  const token = await endpointFrom(flags).clientCredentials(flags.scope === undefined ? {} : { scope: flags.scope });
  out(asSeedJson(token));
}

/** `refresh --refresh-token T`: the refresh grant. */
export async function refreshCommand(
  flags: EndpointFlags & { refreshToken: string; withClientCredentials?: boolean },
  out: (line: string) => void,
): Promise<void> {
  const withClientCredentials = flags.withClientCredentials ?? false;
  const endpoint = endpointFrom(flags, { required: withClientCredentials, withClientCredentials });
  out(asSeedJson(await endpoint.refresh({ refreshToken: flags.refreshToken })));
}

/** `decode TOKEN`: header, gunzipped claims, `exp` and `nbf` as ISO times, and whether it expired. */
export function decodeCommand(token: string, out: (line: string) => void, now: number = Date.now()): void {
  const { header, claims } = decodeJws(token.trim());
  const iso = (seconds: unknown) => (typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : undefined);
  const times: Record<string, unknown> = {};
  if (iso(claims.exp)) times.exp = iso(claims.exp);
  if (iso(claims.nbf)) times.nbf = iso(claims.nbf);
  if (iso(claims.iat)) times.iat = iso(claims.iat);
  times.expired = typeof claims.exp === 'number' ? claims.exp * 1000 <= now : null;
  out(JSON.stringify({ header, claims, times }, null, 2));
}
