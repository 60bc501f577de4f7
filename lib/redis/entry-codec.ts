/**
 * The value stored under an entry key: a version in clear, for the compare-and-set script, then
 * the token, in clear or sealed.
 *
 *   <version>:p:<json>                 without an encryption key
 *   <version>:e:<expiresAt>:<base64>   AES-256-GCM of the same JSON, bound to
 *                                      "<label>\n<entry key>\n<version>\n<expiresAt>"
 *
 * A sealed value binds its key name, its version and its token's expiry (in clear, for a reader
 * to order values by) as associated data: none of the three can be changed without the value
 * failing to open. What a seal cannot tell is whether a value is the latest: an older value of the
 * same key, put back whole, opens fine. {@link isOlder} is what a reader compares values by.
 *
 * The JSON is `{ a, r?, e, i, x, s? }`: accessToken, refreshToken, expiresIn, issuedAt, expiresAt,
 * scope. Reading is strict: anything unexpected makes the value unusable (and reported), never a
 * token with a wrong field.
 */
import type { KeyObject } from 'node:crypto';
import { createToken, type Token } from '../endpoint/token.js';
import { open, seal } from './cipher.js';

/** Binds a sealed value to this format, its key name, its version and its expiry. */
const AAD_LABEL = 'flux-token-manager/redis/v2';
/** The version in front of every value. The compare-and-set script reads it the same way. */
const VERSION_PREFIX = /^(\d{1,15}):/;
/** The expiry in front of a sealed value: ms since the epoch, as `String(number)` writes it. */
const EXPIRY_PREFIX = /^(\d{1,16}(?:\.\d{1,20})?):/;

/** Why a stored value was not used. Safe to report: it names a cause, never content. */
export type EntryProblem =
  | 'unreadable value'
  | 'encrypted value without encryptionKey'
  | 'unencrypted value with encryptionKey'
  | 'decryption failed'
  | 'invalid token fields'
  | 'token of another scope'
  | 'older than a value seen before';

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

function aad(entryKey: string, version: number, expiresAt: string): string {
  return `${AAD_LABEL}\n${entryKey}\n${version}\n${expiresAt}`;
}

/** Where a value stands in the sequence of one entry key's values: its token's expiry, then its version. */
export interface EntryPosition {
  readonly version: number;
  readonly expiresAt: number;
}

/**
 * Whether `value` is older than `seen`. Versions count up from 1 while an entry lives and start
 * again at 1 once it expired, by which time its token had expired: so expiry comes first, and the
 * version orders values of one expiry. A token renewed to expire earlier than the one before it
 * (the server shortened lifetimes) is taken for older, and costs one token request more.
 */
export function isOlder(value: EntryPosition, seen: EntryPosition): boolean {
  return value.expiresAt < seen.expiresAt || (value.expiresAt === seen.expiresAt && value.version < seen.version);
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
    if (this.#key === undefined) return `${version}:p:${json}`;
    const expiresAt = String(token.expiresAt);
    return `${version}:e:${expiresAt}:${seal(this.#key, json, aad(entryKey, version, expiresAt))}`;
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
    let sealedExpiry: string | undefined;
    if (mode === 'p:') {
      if (this.#key !== undefined) return { version, problem: 'unencrypted value with encryptionKey' };
      json = rest.slice(2);
    } else if (mode === 'e:') {
      if (this.#key === undefined) return { version, problem: 'encrypted value without encryptionKey' };
      // No expiry in front: a value of the former format, which this one does not open.
      sealedExpiry = EXPIRY_PREFIX.exec(rest.slice(2))?.[1];
      if (sealedExpiry === undefined) return { version, problem: 'decryption failed' };
      json = open(this.#key, rest.slice(3 + sealedExpiry.length), aad(entryKey, version, sealedExpiry));
      if (json === undefined) return { version, problem: 'decryption failed' };
    } else {
      return { version, problem: 'unreadable value' };
    }
    const token = fromJson(json);
    if (token === undefined || (sealedExpiry !== undefined && token.expiresAt !== Number(sealedExpiry))) {
      return { version, problem: 'invalid token fields' };
    }
    // Unencrypted values are not bound to their key name: check the scope they were issued for.
    if (token.scope !== scope) return { version, problem: 'token of another scope' };
    return { version, token };
  }
}
