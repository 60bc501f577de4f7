/**
 * Reading and writing the shared entries: one GET, one compare-and-set script. A value that cannot
 * be used is reported once (as `rejected`) and read as absent.
 */
import type { StoreEvent } from '../store/token-store.js';
import { MAX_EXPIRES_IN_SECONDS, type Token } from '../endpoint/token.js';
import { isOlder, type DecodedEntry, type EntryCodec, type EntryPosition } from './entry-codec.js';
import type { ScopeKeys } from './key-names.js';
import { UNAVAILABLE, type RedisLink, type Unavailable } from './redis-link.js';
import { WRITE_IF_VERSION } from './scripts.js';

/**
 * Entries outlive their token by this much, so that a user who comes back shortly after expiry is
 * renewed with the refresh token rather than client credentials, and so that a few seconds of
 * clock difference between machines cannot drop an entry before its token stops being used.
 */
export const ENTRY_GRACE_MS = 60_000;

/**
 * The longest lifetime an entry is ever given, in ms: the library's cap on a token's lifetime, plus
 * the grace. Nothing a token says (an `exp` far in the future) makes a write carry more.
 */
export const MAX_ENTRY_TTL_MS = MAX_EXPIRES_IN_SECONDS * 1000 + ENTRY_GRACE_MS;

/**
 * The `PX` of an entry for `token`: its remaining life (never more than its lifetime) plus the
 * grace, a whole number of ms within [ENTRY_GRACE_MS, MAX_ENTRY_TTL_MS]; or undefined when the token's
 * expiry is not a finite number, which no reader would accept (the value would be read as invalid).
 */
export function entryTtlMs(token: Token, now: number): number | undefined {
  if (!Number.isFinite(token.expiresIn) || !Number.isFinite(token.expiresAt) || !Number.isFinite(token.issuedAt)) return undefined;
  const left = Math.min(Math.max(token.expiresAt - now, 0), token.expiresIn * 1000);
  return Math.min(Math.ceil(left) + ENTRY_GRACE_MS, MAX_ENTRY_TTL_MS);
}

/** How many (entry, version) pairs are remembered as already reported, so a bad value is reported once. */
const MAX_REMEMBERED_REJECTIONS = 1_000;
/**
 * How many entries' newest values are remembered, to refuse an older one put back (about 100 bytes
 * each). Past it the least recently seen is forgotten, and with it the protection of that entry.
 */
const MAX_REMEMBERED_POSITIONS = 100_000;

/** An entry as read: its version (0 when absent, -1 when unreadable) and its token when usable. */
export interface SharedRead {
  readonly version: number;
  readonly token: Token | undefined;
}

export class SharedEntries {
  readonly #link: RedisLink;
  readonly #codec: EntryCodec;
  readonly #report: (event: StoreEvent) => void;
  readonly #now: () => number;
  /** Entry key → version of the value last reported as rejected. */
  readonly #rejected = new Map<string, number>();
  /**
   * With encryption only: entry key → the newest value this process read or wrote there, least
   * recently seen first. A sealed value older than it was put back by someone who can write to
   * Redis (it opens fine: it was sealed with the fleet's key), and is refused.
   */
  readonly #newest = new Map<string, EntryPosition>();

  constructor(link: RedisLink, codec: EntryCodec, report: (event: StoreEvent) => void, now: () => number = Date.now) {
    this.#link = link;
    this.#codec = codec;
    this.#report = report;
    this.#now = now;
  }

  /** Reads the entry of `keys`. */
  async read(keys: ScopeKeys): Promise<SharedRead | Unavailable> {
    const raw = await this.#link.run('GET', (redis) => redis.get(keys.entry));
    if (raw === UNAVAILABLE) return UNAVAILABLE;
    if (raw === null) return { version: 0, token: undefined };
    const decoded = this.#rolledBack(keys.entry, this.#codec.decode(keys.entry, keys.scope, raw));
    if (decoded.problem !== undefined) {
      if (this.#rejected.get(keys.entry) !== decoded.version) {
        if (this.#rejected.size >= MAX_REMEMBERED_REJECTIONS) this.#rejected.clear();
        this.#rejected.set(keys.entry, decoded.version);
        this.#report({ kind: 'rejected', scope: keys.scope, detail: decoded.problem });
      }
      return { version: decoded.version, token: undefined };
    }
    return { version: decoded.version, token: decoded.token };
  }

  /**
   * Writes `token` as the successor of version `readVersion` (0: the entry was absent), unless
   * another writer got there first. Announces the write on `channel`. Returns whether it was written:
   * a token whose expiry is not a finite number is never written (see {@link entryTtlMs}).
   */
  async write(keys: ScopeKeys, channel: string, readVersion: number, token: Token): Promise<boolean | Unavailable> {
    const px = entryTtlMs(token, this.#now());
    if (px === undefined) return false;
    const version = Math.max(readVersion, 0) + 1;
    const value = this.#codec.encode(keys.entry, version, token);
    const written = await this.#link.run('EVAL write', (redis) =>
      redis.eval(WRITE_IF_VERSION, 1, keys.entry, String(readVersion), value, String(px), channel, keys.entry),
    );
    if (written === UNAVAILABLE) return UNAVAILABLE;
    if (written === 1) {
      this.#rejected.delete(keys.entry);
      this.#remember(keys.entry, { version, expiresAt: token.expiresAt });
    }
    return written === 1;
  }

  /** `decoded`, or a refusal when it is older than the newest value seen at `entry`; remembers it otherwise. */
  #rolledBack(entry: string, decoded: DecodedEntry): DecodedEntry {
    if (!this.#codec.encrypted || decoded.token === undefined) return decoded;
    const position = { version: decoded.version, expiresAt: decoded.token.expiresAt };
    const newest = this.#newest.get(entry);
    if (newest !== undefined && isOlder(position, newest)) return { version: decoded.version, problem: 'older than a value seen before' };
    this.#remember(entry, position);
    return decoded;
  }

  #remember(entry: string, position: EntryPosition): void {
    if (!this.#codec.encrypted) return;
    this.#newest.delete(entry);
    if (this.#newest.size >= MAX_REMEMBERED_POSITIONS) this.#newest.delete(this.#newest.keys().next().value!);
    this.#newest.set(entry, position);
  }
}
