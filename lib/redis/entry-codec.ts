/**
 * The value stored under an entry key: a version in clear, for the compare-and-set script, then
 * the token, in clear or sealed.
 *
 *   <version>:p:<json>      without an encryption key
 *   <version>:e:<base64>    AES-256-GCM of the same JSON, bound to "<entry key>\n<version>"
 *
 * The JSON is `{ a, r?, e, i, x, s? }`: accessToken, refreshToken, expiresIn, issuedAt, expiresAt,
 * scope. Reading is strict: anything unexpected makes the value unusable (and reported), never a
 * token with a wrong field.
 */
import type { KeyObject } from 'node:crypto';
import { createToken, type Token } from '../endpoint/token.js';
import { open, seal } from './cipher.js';

/** Binds a sealed value to this format, its key name and its version. */
const AAD_LABEL = 'flux-token-manager/redis/v1';
/** The version in front of every value. The compare-and-set script reads it the same way. */
const VERSION_PREFIX = /^(\d{1,15}):/;

/** Why a stored value was not used. Safe to report: it names a cause, never content. */
export type EntryProblem =
  | 'unreadable value'
  | 'encrypted value without encryptionKey'
  | 'unencrypted value with encryptionKey'
  | 'decryption failed'
  | 'invalid token fields'
  | 'token of another scope';

/** A value read from Redis. */
export interface DecodedEntry {
  /** Its version, as the compare-and-set script reads it: -1 when it has none. */
  readonly version: number;
  /** The token, when the value is valid. */
  readonly token?: Token;
  /** Why there is no token, when the value is not valid. */
  readonly problem?: EntryProblem;
}

/**
 * The version of a raw value, exactly as the Lua script reads it (`^(%d+):`), or -1.
 * Kept in one place so that the two readings never disagree.
 */
export function versionOf(raw: string): number {
  const match = VERSION_PREFIX.exec(raw);
  return match === null ? -1 : Number(match[1]);
}

function aad(entryKey: string, version: number): string {
  return `${AAD_LABEL}\n${entryKey}\n${version}`;
}

function toJson(token: Token): string {
  return JSON.stringify({
    a: token.accessToken,
    ...(token.refreshToken === undefined ? {} : { r: token.refreshToken }),
    e: token.expiresIn,
    i: token.issuedAt,
    x: token.expiresAt,
    ...(token.scope === undefined ? {} : { s: token.scope }),
  });
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

function fromJson(json: string): Token | undefined {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const { a, r, e, i, x, s } = data as Record<string, unknown>;
  const ok =
    isText(a) &&
    (r === undefined || isText(r)) &&
    isFiniteNumber(e) &&
    e > 0 &&
    isFiniteNumber(i) &&
    isFiniteNumber(x) &&
    x > i &&
    (s === undefined || isText(s));
  if (!ok) return undefined;
  return createToken({
    accessToken: a,
    tokenType: 'bearer',
    expiresIn: e,
    issuedAt: i,
    expiresAt: x,
    ...(r === undefined ? {} : { refreshToken: r }),
    ...(s === undefined ? {} : { scope: s }),
  });
}

/** Writes and reads entry values, sealed when an encryption key is set. */
export class EntryCodec {
  readonly #key: KeyObject | undefined;

  constructor(key: KeyObject | undefined) {
    this.#key = key;
  }

  /** Whether values are encrypted. */
  get encrypted(): boolean {
    return this.#key !== undefined;
  }

  /** The value to store for `token` under `entryKey` at `version`. */
  encode(entryKey: string, version: number, token: Token): string {
    const json = toJson(token);
    return this.#key === undefined
      ? `${version}:p:${json}`
      : `${version}:e:${seal(this.#key, json, aad(entryKey, version))}`;
  }

  /**
   * Reads `raw`, found under `entryKey`, which belongs to `scope` (undefined: client-wide). A value
   * in the other mode than this store's is refused: with a key, an unencrypted value could have
   * been planted by anyone who can write to Redis.
   */
  decode(entryKey: string, scope: string | undefined, raw: string): DecodedEntry {
    const version = versionOf(raw);
    if (version < 0) return { version, problem: 'unreadable value' };
    const rest = raw.slice(String(version).length + 1);
    const mode = rest.slice(0, 2);
    let json: string | undefined;
    if (mode === 'p:') {
      if (this.#key !== undefined) return { version, problem: 'unencrypted value with encryptionKey' };
      json = rest.slice(2);
    } else if (mode === 'e:') {
      if (this.#key === undefined) return { version, problem: 'encrypted value without encryptionKey' };
      json = open(this.#key, rest.slice(2), aad(entryKey, version));
      if (json === undefined) return { version, problem: 'decryption failed' };
    } else {
      return { version, problem: 'unreadable value' };
    }
    const token = fromJson(json);
    if (token === undefined) return { version, problem: 'invalid token fields' };
    // Unencrypted values are not bound to their key name: check the scope they were issued for.
    if (token.scope !== scope) return { version, problem: 'token of another scope' };
    return { version, token };
  }
}
