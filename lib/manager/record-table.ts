/**
 * Where the manager finds the record (the {@link ManagedRecord}) of each cached token.
 *
 * A store that keeps records (the default LRU, and the LRU in front of the Redis store) holds the
 * record itself as its value for the key: a hit is one lookup, and a record leaves with its token.
 * With any other store, records sit in a WeakMap keyed by token, and still go with their token.
 */
import { refreshAtOf, usableUntil, type ExpiryPolicy } from './expiry.js';
import type { ManagedRecord } from './manager-state.js';
import type { RefreshScheduler } from './refresh-scheduler.js';
import type { Token } from '../endpoint/token.js';
import type { RecordKeeper, TokenRecord, TokenStore } from '../store/token-store.js';

/** What a {@link RecordTable} needs from its manager. */
export interface RecordTableDeps {
  store: TokenStore;
  scheduler: RefreshScheduler<ManagedRecord>;
  policy: ExpiryPolicy;
  random: () => number;
}

/** The records of one manager's cached tokens, and their refresh schedule. */
export class RecordTable {
  readonly #store: TokenStore;
  readonly #scheduler: RefreshScheduler<ManagedRecord>;
  readonly #policy: ExpiryPolicy;
  readonly #random: () => number;
  /** The store's keeper of this manager's records: every record it holds is one of them. */
  readonly #keeper: RecordKeeper | undefined;
  /** Only when the store keeps no records for this manager. */
  readonly #byToken: WeakMap<Token, ManagedRecord> | undefined;

  /** Asks the store, once, to keep the records (see `TokenStore.keepRecords`). */
  constructor({ store, scheduler, policy, random }: RecordTableDeps) {
    this.#store = store;
    this.#scheduler = scheduler;
    this.#policy = policy;
    this.#random = random;
    this.#keeper = store.keepRecords?.();
    this.#byToken = this.#keeper === undefined ? new WeakMap() : undefined;
  }

  /**
   * The record of the token the store holds for `key`, made now if that token has none yet (it
   * was saved into the store by someone else); undefined when the store holds no token. The hot path.
   */
  current(key: string): ManagedRecord | undefined {
    const held = this.#keeper?.get(key) as ManagedRecord | undefined;
    if (held !== undefined) return held;
    const token = this.#store.peek(key);
    if (token === undefined) return undefined;
    return this.#byToken?.get(token) ?? this.add(key, token);
  }

  /** The record of the token the store holds for `key`, if there is one; makes none. */
  existing(key: string): ManagedRecord | undefined {
    if (this.#keeper !== undefined) return this.#keeper.get(key) as ManagedRecord | undefined;
    const token = this.#store.peek(key);
    return token === undefined ? undefined : this.#byToken!.get(token);
  }

  /** The record of a token the store dropped by itself; `record` is what the store kept with it. */
  dropped(token: Token, record: TokenRecord | undefined): ManagedRecord | undefined {
    return this.#keeper === undefined ? this.#byToken!.get(token) : (record as ManagedRecord | undefined);
  }

  /**
   * Makes the record of `token`, which the store has just taken for `key`, hands it to the store
   * (or the WeakMap), and schedules its refresh ahead of expiry (a stopped scheduler ignores that).
   */
  add(key: string, token: Token): ManagedRecord {
    const record: ManagedRecord = {
      key,
      token,
      usableUntil: usableUntil(token, this.#policy),
      dueAt: refreshAtOf(token, this.#policy, this.#random),
      heapIndex: -1,
      used: false,
      rejected: false,
      failures: 0,
    };
    if (this.#keeper !== undefined) this.#keeper.hold(key, record);
    else this.#byToken!.set(token, record);
    this.#scheduler.schedule(record);
    return record;
  }
}
