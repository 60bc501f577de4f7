/**
 * The seam between the manager and where tokens are kept. Small on purpose, like p-queue's `Queue`:
 * the in-memory LRU implements it by default, and a shared store (Redis, for a fleet of workers)
 * plugs in without a change to the manager.
 *
 * Keys are strings made by the manager: a user id for a per-user token, and `''` for the
 * client-wide token (no user id can be empty, so the two never collide).
 */
import type { Token } from '../endpoint/token.js';

/** Why a store dropped a key by itself. */
export type EvictionReason = 'evict' | 'expire';

/**
 * Called when a store drops a token it was not asked to drop, so that its refresh is cancelled.
 * `record` is the {@link TokenRecord} the store kept with the token, if it keeps records.
 */
export type EvictionListener = (key: string, token: Token, reason: EvictionReason, record?: TokenRecord) => void;

/**
 * The manager's record of one cached token (when its refresh ahead of expiry is due, whether it
 * was handed out). Opaque to a store, except for the token it belongs to.
 */
export interface TokenRecord {
  /** The cached token itself. */
  readonly token: Token;
}

/** What a store that keeps records gives the one manager whose records it keeps; see {@link TokenStore.keepRecords}. */
export interface RecordKeeper {
  /**
   * Keeps `record` as the value of `key`, in place of what the store holds for it, provided that
   * is `record.token`; otherwise does nothing (the token was replaced or dropped meanwhile).
   */
  hold(key: string, record: TokenRecord): void;
  /**
   * The record held for `key`, or undefined when there is none (no token, or a token saved without
   * a record). Like `peek`: synchronous, no I/O, and a use of the key.
   */
  get(key: string): TokenRecord | undefined;
}

/** What the manager hands a shared store for one renewal; see {@link TokenStore.coordinate}. */
export interface Renewal {
  /**
   * Asks the token endpoint for a new token. `base` is the freshest token known for the key: its
   * refresh token is spent (the refresh grant), or, without one, client credentials are used. Only
   * the process that holds the renewal for the fleet may call it with a shared token as `base`.
   */
  fetch(base: Token | undefined): Promise<Token>;
  /** Whether a token found in the shared store may be used instead of fetching a new one. */
  isFresh(token: Token): boolean;
  /** The token this process holds for the key, if any (expired, rejected or about to be). */
  local: Token | undefined;
  /**
   * Whether no caller waits for this renewal (a refresh ahead of expiry). It turns false as soon as
   * a caller starts waiting, so read it when it matters. A store with a shared budget on the token
   * endpoint lets background flights use only what waiting callers leave, and a shared store may
   * let such a renewal wait out a short outage of its backend (a failover) instead of renewing alone.
   */
  readonly background?: boolean;
  /**
   * Aborted when the manager closes: a store that waits for another process stops waiting (the
   * manager's own `fetch` is aborted by then too).
   */
  signal?: AbortSignal;
  /**
   * Waits for one of the manager's reservations (as many as its `concurrency`) and holds it until
   * this renewal's next token request starts on the wire. Call it just before taking a lock whose
   * holder sends that request, so that a process holds no more locks than it can soon send requests
   * for, and the fleet's processes share the work: without it, the process that asks first takes
   * every lock, and the others wait for its queue. Resolves with a function that ends the
   * reservation unused (the lock was not taken, or the request turned out not to be needed);
   * calling it after the request started does nothing.
   */
  reserve?(): Promise<() => void>;
}

/** The outcome of {@link TokenStore.coordinate}. */
export interface RenewalResult {
  /** The token to use. */
  token: Token;
  /** `store` when another process renewed it, `fetch` when this one did. */
  source: 'store' | 'fetch';
}

/**
 * News from a shared store, for logs and metrics. Holds no token and no secret.
 * - `degraded`: the backend is unreachable or slow; this process works alone until it returns.
 * - `recovered`: the backend answers again; sharing resumes.
 * - `rejected`: a stored value failed to decrypt or parse (tampered with, or another key); it is
 *   ignored and the token fetched again.
 */
export interface StoreEvent {
  /** `degraded`: the store went local-only; `recovered`: it is shared again; `rejected`: it refused a value. */
  kind: 'degraded' | 'recovered' | 'rejected';
  /** The user id concerned, when there is one (undefined for the client-wide token). */
  scope?: string | undefined;
  /** A short description, e.g. the backend's error code. */
  detail: string;
}

/** Where a TokenManager keeps its tokens. */
export interface TokenStore {
  /**
   * The token held in this process for `key`, synchronously. This is the hot path of every
   * `getToken()`: it must not do I/O.
   */
  peek(key: string): Token | undefined;

  /**
   * Keeps `token` for `key`, replacing what was there. `previous` is the token this one renews (or
   * undefined), so that a shared store can refuse to overwrite a newer token with an older one.
   */
  save(key: string, token: Token, previous: Token | undefined): void | Promise<void>;

  /** How many keys are held in this process. */
  readonly size: number;

  /** Registers the listener for tokens the store drops by itself (LRU eviction, expiry). */
  onEvict(listener: EvictionListener): void;

  /**
   * Optional: takes part in every renewal, for a store shared by several processes. The manager
   * calls it instead of asking the endpoint itself. The store either returns a token that another
   * process stored and that `isFresh` accepts (`source: 'store'`), or calls `fetch` as the only
   * renewer of `key` among the processes that share it, stores the result, and returns it
   * (`source: 'fetch'`). A store without it is local: the manager calls the endpoint directly.
   */
  coordinate?(key: string, renewal: Renewal): Promise<RenewalResult>;

  /**
   * Optional: registers the listener for the store's own news (it lost or regained its backend, it
   * rejected a stored value). The manager re-emits each as its `store` event.
   */
  onStoreEvent?(listener: (event: StoreEvent) => void): void;

  /**
   * Optional: called once by the manager's constructor with the client it serves, so that a store
   * whose keys depend on the client can refuse another one (a shared store configured for client A
   * must never hand client B's manager A's tokens). Throws ConfigurationError to refuse.
   */
  bind?(client: { clientId: string; tokenUrl: URL }): void;

  /**
   * Optional, for a store that keeps its tokens in this process's memory: offers to keep the
   * manager's record of each token as the store's own value for the key. Without it, the manager
   * keeps its records beside the store, in a `WeakMap` keyed by token: each `getToken` then costs a
   * second lookup, and each cached scope a `WeakMap` entry (about 40 bytes, twice that once the
   * cache has turned over and the table has grown). Called once, by the manager's constructor.
   * Returns undefined when the store already keeps another manager's records: each store keeps
   * those of one manager, and any other keeps its own. The store then passes the record of each
   * token it drops to its eviction listeners.
   */
  keepRecords?(): RecordKeeper | undefined;

  /** Releases what the store holds (connections, timers). Called by `TokenManager.close()`. */
  close?(): void | Promise<void>;
}
