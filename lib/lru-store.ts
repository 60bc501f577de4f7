/**
 * The default {@link TokenStore}: an in-process LRU (lru-cache) bounded by a number of scopes.
 * Entries carry no TTL of their own: an expired token is kept, because its refresh token may still
 * renew it, and the manager never hands out a token past its margin anyway.
 */
import { LRUCache } from 'lru-cache';
import type { Token } from './token.js';
import type { EvictionListener, TokenStore } from './token-store.js';
import { requireNumber } from './validate.js';

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

/** An in-memory, bounded, least-recently-used token store. */
export class LruTokenStore implements TokenStore {
  readonly #cache: LRUCache<string, Token>;
  readonly #listeners: EvictionListener[] = [];

  constructor({ maxScopes = DEFAULT_MAX_SCOPES }: LruTokenStoreOptions = {}) {
    const max = requireNumber('maxScopes', maxScopes, { min: 1, max: 10_000_000, integer: true });
    this.#cache = new LRUCache<string, Token>({
      max,
      dispose: (token, key, reason) => {
        // 'set' and 'delete' are the manager's own doing; only report what the cache decided.
        if (reason === 'evict' || reason === 'expire') {
          for (const listener of this.#listeners) listener(key, token, reason);
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
    return this.#cache.get(key);
  }

  save(key: string, token: Token): void {
    this.#cache.set(key, token);
  }

  onEvict(listener: EvictionListener): void {
    this.#listeners.push(listener);
  }

  close(): void {
    this.#cache.clear();
  }
}
