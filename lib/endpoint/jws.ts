/**
 * Reads (never verifies) a Flux access token. Flux tokens are JWS compact serializations whose
 * header says `"zip":"GZIP"`: the payload segment is base64url of gzip-compressed JSON, which no
 * ordinary JWT library reads. The endpoint client uses `exp` when `expires_in` is missing, the
 * CLI's `decode` prints the claims, and the emulator checks the tokens it issued.
 *
 * Nothing here checks a signature: a client cannot, and need not, since it got the token from the
 * endpoint over TLS. Never make an authorization decision on these claims.
 */
import { TokenDecodeError } from '../shared/errors.js';

/** Claims seen in Flux access tokens. All optional: a decoder must not trust their presence. */
export interface FluxClaims {
  /** Token id. */
  jti?: string;
  /** Issuer, `tryflux.com` for Flux. */
  iss?: string;
  /** Audience: the client id. */
  aud?: string | string[];
  /** Expiry, in seconds since the epoch. */
  exp?: number;
  /** Not before, in seconds since the epoch. */
  nbf?: number;
  /** Issued at, in seconds since the epoch. */
  iat?: number;
  /** The user id the token is restricted to, when it is restricted. */
  restrictedTo?: string | null;
  /** Flux metadata, opaque here. */
  metadata?: unknown;
  [claim: string]: unknown;
}

/** A decoded JWS: its protected header and its (decompressed) claims. */
export interface DecodedJws {
  /** The JOSE header, as sent (`alg`, `typ`, `kid`, ...). */
  header: Record<string, unknown>;
  /** The payload's claims; see {@link FluxClaims}. */
  claims: FluxClaims;
}

/** Decompressed payloads larger than this are refused (a token is a few hundred bytes). */
export const MAX_DECODED_PAYLOAD_BYTES = 64 * 1024;

function parseJsonObject(bytes: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new TokenDecodeError(`The JWS ${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TokenDecodeError(`The JWS ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function base64url(segment: string, what: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(segment)) throw new TokenDecodeError(`The JWS ${what} is not base64url`);
  return Buffer.from(segment, 'base64url');
}

/**
 * Decodes the header and claims of a Flux JWS. Handles `zip: "GZIP"` (Flux), `zip: "DEF"` (RFC 7516
 * raw deflate) and uncompressed payloads. Throws {@link TokenDecodeError}, whose message never
 * includes the token.
 */
export function decodeJws(token: string): DecodedJws {
  if (typeof token !== 'string') throw new TokenDecodeError('A JWS must be a string');
  const parts = token.split('.');
  if (parts.length !== 3) throw new TokenDecodeError(`A JWS has 3 dot-separated segments, this string has ${parts.length}`);
  const header = parseJsonObject(base64url(parts[0]!, 'header'), 'header');
  const raw = base64url(parts[1]!, 'payload');
  const zip = typeof header.zip === 'string' ? header.zip.toUpperCase() : undefined;
  if (zip !== undefined && zip !== 'GZIP' && zip !== 'DEF') {
    throw new TokenDecodeError(`Unsupported JWS compression ${JSON.stringify(zip)}`);
  }
  let payload: Buffer;
  try {
    const limits = { maxOutputLength: MAX_DECODED_PAYLOAD_BYTES };
    // zlib is loaded here rather than imported: it brings Node's whole stream stack, which a
    // process that never meets a compressed token would load for nothing at start-up.
    const zlib = zip === undefined ? undefined : process.getBuiltinModule('node:zlib');
    payload = zip === 'GZIP' ? zlib!.gunzipSync(raw, limits) : zip === 'DEF' ? zlib!.inflateRawSync(raw, limits) : raw;
  } catch (error) {
    // zlib's errors name no input, so they are safe to keep as the cause.
    throw new TokenDecodeError(`The JWS payload does not decompress as ${zip}`, { cause: error });
  }
  return { header, claims: parseJsonObject(payload, 'payload') as FluxClaims };
}

/**
 * Whether `token` has the shape of a JWS compact serialization: three dot-separated segments, the
 * first of which reads, even leniently (standard base64, padding), as a JSON object naming an
 * `alg`. A token of that shape is meant to be read by the API, which may decode it more leniently
 * than {@link decodeJws} does; anything else is an opaque token.
 */
export function looksLikeJws(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0]!.length === 0 || !mayOpenJsonObject(parts[0]!)) return false;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64').toString('utf8')) as unknown;
    return typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

/**
 * Whether a base64url segment may hold a JSON object: its first bytes, past any whitespace, are
 * `{`. Decodes four characters only, so that an opaque token with two dots (`at.x.1`) costs no
 * JSON parse and no thrown error on every answer.
 */
function mayOpenJsonObject(segment: string): boolean {
  for (const byte of Buffer.from(segment.slice(0, 4), 'base64')) {
    if (byte === 0x7b) return true;
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return false;
  }
  return true; // only whitespace so far: the full parse decides
}

/**
 * The claims of a JWS-shaped access token, or undefined for an opaque one (see {@link looksLikeJws}).
 * Throws {@link TokenDecodeError} for a token that looks like a JWS but cannot be read: its claims
 * (its user binding above all) cannot be checked, so it must not be used.
 */
export function claimsOf(token: string): FluxClaims | undefined {
  if (!looksLikeJws(token)) return undefined;
  return decodeJws(token).claims;
}

/**
 * The `exp` claim in milliseconds since the epoch, or undefined when the token has none or is
 * unreadable. An absurd claim gives an absurd instant (`"exp": 1.8e308` reads as Infinity): a
 * caller that turns it into a lifetime caps it, as the endpoint client does at ten years.
 */
export function expiryFromJws(token: string): number | undefined {
  try {
    const { exp } = decodeJws(token).claims;
    return typeof exp === 'number' && !Number.isNaN(exp) && exp > 0 ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
