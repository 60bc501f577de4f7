/**
 * Reading and writing the shared entries: one GET, one compare-and-set script. A value that cannot
 * be used is reported once (as `rejected`) and read as absent.
 */
import type { StoreEvent } from '../token-store.js';
import type { Token } from '../token.js';
import type { EntryCodec } from './entry-codec.js';
import type { ScopeKeys } from './key-names.js';
import { UNAVAILABLE, type RedisLink, type Unavailable } from './redis-link.js';
import { WRITE_IF_VERSION } from './scripts.js';

/**
 * Entries outlive their token by this much, so that a user who comes back shortly after expiry is
 * renewed with the refresh token rather than client credentials, and so that a few seconds of
 * clock difference between machines cannot drop an entry before its token stops being used.
 */
export const ENTRY_GRACE_MS = 60_000;

/** How many (entry, version) pairs are remembered as already reported, so a bad value is reported once. */
const MAX_REMEMBERED_REJECTIONS = 1_000;

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
    const decoded = this.#codec.decode(keys.entry, keys.scope, raw);
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
   * another writer got there first. Announces the write on `channel`. Returns whether it was written.
   */
  async write(keys: ScopeKeys, channel: string, readVersion: number, token: Token): Promise<boolean | Unavailable> {
    const version = Math.max(readVersion, 0) + 1;
    const value = this.#codec.encode(keys.entry, version, token);
    const lifetimeMs = token.expiresIn * 1000;
    const px = Math.ceil(Math.min(Math.max(token.expiresAt - this.#now(), 0), lifetimeMs)) + ENTRY_GRACE_MS;
    const written = await this.#link.run('EVAL write', (redis) =>
      redis.eval(WRITE_IF_VERSION, 1, keys.entry, String(readVersion), value, String(px), channel, keys.entry),
    );
    if (written === UNAVAILABLE) return UNAVAILABLE;
    if (written === 1) this.#rejected.delete(keys.entry);
    return written === 1;
  }
}
