/**
 * Mints and checks access tokens shaped like Flux's: a JWS compact serialization with the header
 * `{"alg":"RS256","zip":"GZIP"}`, whose payload is base64url(gzip(JSON claims)), signed RS256 with
 * a key pair made when the emulator starts (or the `signingKey` option's). Tokens are checked by their signature rather than
 * looked up, so the emulator keeps no per-token state and its memory does not grow with use.
 */
import { createPublicKey, generateKeyPair, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { decodeJws } from '../endpoint/jws.js';

/** The issuer claim Flux puts in its tokens. */
export const FLUX_ISSUER = 'tryflux.com';

const HEADER_SEGMENT = Buffer.from(JSON.stringify({ alg: 'RS256', zip: 'GZIP' })).toString('base64url');

/** 2048 bits: the RS256 minimum in RFC 7518 §3.3, and it gives tokens of about 700 characters,
 * the size class of Flux's (its sample is 532, with a shorter signature). */
const MODULUS_LENGTH = 2048;

/**
 * Flux's `metadata` claim: a JSON string whose values are JSON texts in turn, as in Flux's sample.
 * The values say what an emulated client may do; nothing reads them.
 */
const METADATA = JSON.stringify({
  clientType: JSON.stringify('BANK'),
  signingMode: JSON.stringify('OPTIONAL'),
  permissions: JSON.stringify(['GET /users/.*', 'PUT /users/.*', 'POST /users/.*', 'DELETE /users/.*']),
});

/**
 * Verified tokens are remembered so that the API's hot path skips the RSA check; the bound keeps a
 * long demo or benchmark from growing without limit.
 */
const VERIFIED_CACHE_SIZE = 10_000;

/** What the emulator needs to know about a token it issued. */
export interface IssuedToken {
  /** `exp` in ms since the epoch. */
  expiresAt: number;
  /** The user id the token is restricted to, or null for a client-wide token. */
  restrictedTo: string | null;
}

/** Signs and verifies the emulator's access tokens. */
export class Issuer {
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #audience: string;
  /** Token string -> its checked claims. Holds only tokens whose signature verified. */
  readonly #verified = new Map<string, IssuedToken>();

  private constructor(privateKey: KeyObject, publicKey: KeyObject, audience: string) {
    this.#privateKey = privateKey;
    this.#publicKey = publicKey;
    this.#audience = audience;
  }

  /**
   * An issuer that signs with `signingKey`, or with a fresh RSA key pair (made asynchronously: it
   * takes 100 to 300 ms of CPU).
   */
  static async create(audience: string, signingKey?: KeyObject): Promise<Issuer> {
    if (signingKey !== undefined) return new Issuer(signingKey, createPublicKey(signingKey), audience);
    const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', { modulusLength: MODULUS_LENGTH });
    return new Issuer(privateKey, publicKey, audience);
  }

  /**
   * Mints an access token valid from `now` for `expiresIn` seconds, with the claims of Flux's sample
   * token, each of the same type: `exp` and `nbf` are whole seconds, `metadata` is a JSON string,
   * and `restrictedTo` is the user id, or `{}` for a client-wide token. `nbf` is rounded down and
   * `exp` up, so that the API never refuses a token before the moment `expires_in` promised; with
   * a sub-second lifetime it accepts the token up to a second longer.
   */
  issue({ now, expiresIn, restrictedTo }: { now: number; expiresIn: number; restrictedTo: string | null }): string {
    const claims = {
      jti: randomUUID(),
      iss: FLUX_ISSUER,
      aud: this.#audience,
      exp: Math.ceil((now + expiresIn * 1000) / 1000),
      nbf: Math.floor(now / 1000),
      metadata: METADATA,
      restrictedTo: restrictedTo ?? {},
    };
    const payload = gzipSync(JSON.stringify(claims)).toString('base64url');
    const signingInput = `${HEADER_SEGMENT}.${payload}`;
    const signature = sign('sha256', Buffer.from(signingInput), this.#privateKey).toString('base64url');
    return `${signingInput}.${signature}`;
  }

  /** The token's expiry and restriction when this issuer signed it, otherwise undefined. */
  check(token: string): IssuedToken | undefined {
    const cached = this.#verified.get(token);
    if (cached !== undefined) return cached;
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== HEADER_SEGMENT) return undefined;
    const signature = Buffer.from(parts[2]!, 'base64url');
    if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), this.#publicKey, signature)) return undefined;
    let issued: IssuedToken;
    try {
      const { claims } = decodeJws(token);
      if (claims.iss !== FLUX_ISSUER || claims.aud !== this.#audience || typeof claims.exp !== 'number') return undefined;
      const restrictedTo = typeof claims.restrictedTo === 'string' ? claims.restrictedTo : null;
      issued = { expiresAt: claims.exp * 1000, restrictedTo };
    } catch {
      return undefined;
    }
    if (this.#verified.size >= VERIFIED_CACHE_SIZE) {
      this.#verified.delete(this.#verified.keys().next().value!);
    }
    this.#verified.set(token, issued);
    return issued;
  }
}
