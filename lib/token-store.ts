/**
 * The seam between the manager and where tokens are kept. Small on purpose, like p-queue's `Queue`:
 * the in-memory LRU implements it by default, and a shared store (Redis, for a fleet of workers)
 * plugs in without a change to the manager.
 *
 * Keys are strings made by the manager: a user id for a per-user token, and `''` for the
 * client-wide token (no user id can be empty, so the two never collide).
 */
import type { Token } from './token.js';

/** Why a store dropped a key by itself. */
export type EvictionReason = 'evict' | 'expire';

/** Called when a store drops a token it was not asked to drop, so that its refresh is cancelled. */
export type EvictionListener = (key: string, token: Token, reason: EvictionReason) => void;

/** Where a TokenManager keeps its tokens. */
export interface TokenStore {
  /**
   * The token held in this process for `key`, synchronously. This is the hot path of every
   * `getToken()`: it must not do I/O.
   */
  peek(key: string): Token | undefined;

  /**
   * The freshest token known for `key`, which may come from outside this process (a shared store
   * that another worker wrote to). The manager calls it only on a local miss and before renewing,
   * never on the hot path. A purely local store returns what `peek` returns.
   */
  load(key: string): Token | undefined | Promise<Token | undefined>;

  /**
   * Keeps `token` for `key`, replacing what was there. `previous` is the token this one renews (or
   * undefined), so that a shared store can refuse to overwrite a newer token with an older one.
   */
  save(key: string, token: Token, previous: Token | undefined): void | Promise<void>;

  /** Drops `key`, but only while it still holds `token` (so a newer token is never lost). */
  delete(key: string, token: Token): void;

  /** How many keys are held in this process. */
  readonly size: number;

  /** Registers the listener for tokens the store drops by itself (LRU eviction, expiry). */
  onEvict(listener: EvictionListener): void;

  /** Releases what the store holds (connections, timers). Called by `TokenManager.close()`. */
  close?(): void | Promise<void>;
}
