/**
 * `flux-token token`, `refresh` and `decode`: the two calls of Flux's token endpoint, and a reader
 * for Flux tokens. These print tokens on purpose: the person running them asked for one.
 */
import { decodeJws } from '../endpoint/jws.js';
import type { Token } from '../endpoint/token.js';
import { TokenEndpoint } from '../endpoint/token-endpoint.js';
import { resolveEndpoint, resolveRefreshToken, type EndpointFlags } from './credentials.js';
import { FROM_STDIN, readSecret, type SecretInput } from './stdin.js';

/** The answer in the endpoint's own JSON shape, as Flux's documentation shows it. */
function asEndpointJson(token: Token): string {
  const body: Record<string, unknown> = {
    access_token: token.accessToken,
    ...(token.refreshToken === undefined ? {} : { refresh_token: token.refreshToken }),
    token_type: token.tokenType,
    expires_in: token.expiresIn,
  };
  return JSON.stringify(body, null, 2);
}

function endpointFrom(flags: EndpointFlags, { required = true } = {}): TokenEndpoint {
  return new TokenEndpoint({
    ...resolveEndpoint(flags, { required }),
    request: { retry: flags.retry ?? 0, ...(flags.timeout === undefined ? {} : { timeout: flags.timeout }) },
  });
}

/** `token [--scope USER]`: the client-credentials grant. */
export async function tokenCommand(flags: EndpointFlags & { scope?: string }, out: (line: string) => void): Promise<void> {
  const token = await endpointFrom(flags).clientCredentials(flags.scope === undefined ? {} : { scope: flags.scope });
  out(asEndpointJson(token));
}

/** `refresh [--refresh-token T|-]`: the refresh grant, with the token from the flag, stdin or FLUX_REFRESH_TOKEN. */
export async function refreshCommand(
  flags: EndpointFlags & { refreshToken?: string; withClientCredentials?: boolean },
  out: (line: string) => void,
): Promise<void> {
  const withClientCredentials = flags.withClientCredentials ?? false;
  const endpoint = endpointFrom(flags, { required: withClientCredentials });
  const refreshToken = await resolveRefreshToken(flags.refreshToken);
  out(asEndpointJson(await endpoint.refresh({ refreshToken, authenticate: withClientCredentials })));
}

/**
 * `decode TOKEN|-`: header, gunzipped claims, `exp`, `nbf` and `iat` as ISO times, and whether it
 * expired. `-` reads the token from stdin.
 */
export async function decodeCommand(
  argument: string,
  out: (line: string) => void,
  { now = Date.now(), input }: { now?: number; input?: SecretInput } = {},
): Promise<void> {
  const token = argument === FROM_STDIN ? await readSecret('an access token', input) : argument.trim();
  const { header, claims } = decodeJws(token);
  const iso = (seconds: unknown) => (typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : undefined);
  const times: Record<string, unknown> = {};
  if (iso(claims.exp)) times.exp = iso(claims.exp);
  if (iso(claims.nbf)) times.nbf = iso(claims.nbf);
  if (iso(claims.iat)) times.iat = iso(claims.iat);
  times.expired = typeof claims.exp === 'number' ? claims.exp * 1000 <= now : null;
  out(JSON.stringify({ header, claims, times }, null, 2));
}
