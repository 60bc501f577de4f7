/**
 * The default {@link TokenStore}: an in-process LRU (lru-cache) bounded by a number of scopes.
 * Entries carry no TTL of their own: an expired token is kept, because its refresh token may still
 * renew it, and the manager never hands out a token past its margin anyway.
 */
import { LRUCache } from 'lru-cache';
import type { Token } from '../endpoint/token.js';
import type { EvictionListener, RecordKeeper, TokenRecord, TokenStore } from './token-store.js';
import { requireNumber } from '../shared/validate.js';

/** Default bound on the number of scopes kept. */
export const DEFAULT_MAX_SCOPES = 10_000;

/** Options of {@link LruTokenStore}. */
export interface LruTokenStoreOptions {
  /**
   * How many scopes (users, plus the client-wide token) are kept; the least recently used is
   * evicted beyond that.
   * @default 10000
   */
  maxScopes?: number;
}

/** The value of a key whose token was saved without a record (by the store's own user, say). */
class Bare implements TokenRecord {
  constructor(readonly token: Token) {}
}

/**
 * An in-memory, bounded, least-recently-used token store. It keeps the records of the first
 * manager that asks (see {@link TokenStore.keepRecords}): the record is the cache's value, so that
 * a manager's hit is one lookup, and a record leaves with its token.
 */
export class LruTokenStore implements TokenStore {
  /** Each value is the record held for the key's token, or a {@link Bare} one. */
  readonly #cache: LRUCache<string, TokenRecord>;
  readonly #listeners: EvictionListener[] = [];
  /** Set once, for the one manager whose records the cache holds. */
  #keeper: RecordKeeper | undefined;

  constructor({ maxScopes = DEFAULT_MAX_SCOPES }: LruTokenStoreOptions = {}) {
    const max = requireNumber('maxScopes', maxScopes, { min: 1, max: 10_000_000, integer: true });
    this.#cache = new LRUCache<string, TokenRecord>({
      max,
      dispose: (entry, key, reason) => {
        // 'set' and 'delete' are the manager's own doing; only report what the cache decided.
        if (reason === 'evict' || reason === 'expire') {
          const record = entry instanceof Bare ? undefined : entry;
          for (const listener of this.#listeners) listener(key, entry.token, reason, record);
        }
      },
    });
  }

  /** The bound given at construction. */
  get maxScopes(): number {
    return this.#cache.max;
  }

  get size(): number {
    return this.#cache.size;
  }

  peek(key: string): Token | undefined {
    return this.#cache.get(key)?.token;
  }

  save(key: string, token: Token): void {
    this.#cache.set(key, new Bare(token));
  }

  keepRecords(): RecordKeeper | undefined {
    if (this.#keeper !== undefined) return undefined;
    const cache = this.#cache;
    this.#keeper = {
      hold(key, record) {
        // `peek`, not `get`: holding a record is not a use of the key.
        if (cache.peek(key)?.token === record.token) cache.set(key, record);
      },
      get(key) {
        const entry = cache.get(key);
        return entry instanceof Bare ? undefined : entry;
      },
    };
    return this.#keeper;
  }

  onEvict(listener: EvictionListener): void {
    this.#listeners.push(listener);
  }

  close(): void {
    this.#cache.clear();
  }
}
