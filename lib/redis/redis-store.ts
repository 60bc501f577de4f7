/**
 * `RedisTokenStore`: a {@link TokenStore} shared by a fleet of processes through Redis, so that N
 * workers cost the token endpoint no more than one. See docs/fleet.md for the protocol.
 *
 * Two levels: an in-process LRU answers every `peek()` (no I/O on the hot path); Redis is consulted
 * in `coordinate()`, which the manager calls on a miss and when a token nears its refresh window.
 * There, at most one process per scope asks the endpoint (a lock with a fence); the others wait for
 * its token. Redis trouble never fails a renewal: the store then works alone, and says so.
 */
import { inspect } from 'node:util';
import { AbortError, ConfigurationError } from '../errors.js';
import { LruTokenStore } from '../lru-store.js';
import type { Token } from '../token.js';
import type { EvictionListener, Renewal, RenewalResult, StoreEvent, TokenStore } from '../token-store.js';
import { EntryCodec } from './entry-codec.js';
import { clientHash, KeyNames, type ScopeKeys } from './key-names.js';
import { resolveRedisStoreOptions, type RedisStoreSettings, type RedisTokenStoreOptions } from './options.js';
import { RedisLink, UNAVAILABLE } from './redis-link.js';
import { RenewalLock } from './renewal-lock.js';
import { SharedEntries } from './shared-entries.js';
import { WriteSignal } from './write-signal.js';

/**
 * A process waiting for another one's renewal gives up coordinating after this many lock
 * lifetimes: enough to see a dead holder's lock expire and take over; past it, the holder is alive
 * but slow, and the waiter gets its own token with client credentials (spending no shared refresh
 * token), so that a caller's wait stays bounded.
 */
const MAX_WAIT_LOCK_TTLS = 2;

const noop = () => {};

/**
 * A token store shared through Redis (ioredis), for a fleet of workers with the same client.
 *
 * @example
 * import { Redis } from 'ioredis';
 * import { TokenManager } from 'flux-token-manager';
 * import { RedisTokenStore } from 'flux-token-manager/redis';
 *
 * const redis = new Redis(process.env.REDIS_URL);
 * const tokens = new TokenManager({
 *   clientId, clientSecret,
 *   store: new RedisTokenStore({ redis, encryptionKey: process.env.FLUX_TOKEN_KEY }),
 * });
 * tokens.on('store', (e) => log.warn(e)); // { kind: 'degraded' | 'recovered' | 'rejected', scope?, detail }
 * // ... on shutdown: the manager closes the store; the application quits its own client.
 * await tokens.close();
 * await redis.quit();
 */
export class RedisTokenStore implements TokenStore {
  readonly #settings: RedisStoreSettings;
  readonly #local: LruTokenStore;
  /** Key names and the write signal depend on the client id: set by the constructor or bind(). */
  #client: { id: string; names: KeyNames; signal: WriteSignal } | undefined;
  readonly #link: RedisLink;
  readonly #entries: SharedEntries;
  readonly #lock: RenewalLock;
  readonly #encrypted: boolean;
  readonly #listeners: ((event: StoreEvent) => void)[] = [];
  /** Tokens that coordinate() read from Redis or wrote there: save() has nothing to share for them. */
  readonly #shared = new WeakSet<Token>();
  #closed = false;

  /** Validates every option (throwing ConfigurationError); opens no connection. */
  constructor(options: RedisTokenStoreOptions) {
    const s = resolveRedisStoreOptions(options);
    this.#settings = s;
    this.#local = new LruTokenStore({ maxScopes: s.maxScopes });
    const report = (event: StoreEvent) => this.#report(event);
    this.#link = new RedisLink(s.redis, { commandTimeoutMs: s.commandTimeoutMs, report });
    const codec = new EntryCodec(s.encryptionKey);
    this.#encrypted = codec.encrypted;
    this.#entries = new SharedEntries(this.#link, codec, report);
    this.#lock = new RenewalLock(this.#link, s.lockTtlMs);
    if (s.clientId !== undefined) this.#client = this.#clientOf(s.clientId);
  }

  #clientOf(id: string): { id: string; names: KeyNames; signal: WriteSignal } {
    const names = new KeyNames(this.#settings.keyPrefix, id);
    return { id, names, signal: new WriteSignal(this.#settings.redis, names.channel) };
  }

  /** The client's key names and signal; the manager binds the store before it uses it. */
  get #bound(): { names: KeyNames; signal: WriteSignal } {
    if (this.#client === undefined) {
      throw new ConfigurationError('store', 'Expected the RedisTokenStore to be given to a TokenManager (or a `clientId`) before use');
    }
    return this.#client;
  }

  /** The bound of the in-process LRU. */
  get maxScopes(): number {
    return this.#local.maxScopes;
  }

  /** How many keys are held in this process. */
  get size(): number {
    return this.#local.size;
  }

  /** Whether the store currently works alone because Redis is down or slow. */
  get degraded(): boolean {
    return this.#link.degraded;
  }

  /** The hot path: the in-process LRU only, never the network. */
  peek(key: string): Token | undefined {
    return this.#local.peek(key);
  }

  /**
   * Keeps `token` in this process. A token that did not come through `coordinate()` (say, fetched
   * while Redis was down) is also offered to Redis, where it is written only if the entry is absent.
   */
  save(key: string, token: Token, _previous?: Token): void | Promise<void> {
    this.#local.save(key, token);
    if (this.#shared.has(token) || this.#closed) return;
    this.#shared.add(token);
    const { names } = this.#bound;
    return this.#entries.write(names.of(key), names.channel, 0, token).then(noop);
  }

  onEvict(listener: EvictionListener): void {
    this.#local.onEvict(listener);
  }

  /**
   * Takes the manager's client id, which key names hold (hashed). With a `clientId` option, refuses a
   * manager of another client: a mismatch (a typo, a copied config) would share one client's tokens
   * with another.
   */
  bind(client: { clientId: string; tokenUrl: URL }): void {
    if (this.#client === undefined) {
      this.#client = this.#clientOf(client.clientId);
      return;
    }
    if (client.clientId !== this.#client.id) {
      throw new ConfigurationError(
        'store',
        'Expected the RedisTokenStore `clientId` to equal the TokenManager `clientId`: key names hold it, and tokens must never cross clients',
      );
    }
  }

  onStoreEvent(listener: (event: StoreEvent) => void): void {
    this.#listeners.push(listener);
  }

  /**
   * One renewal for the fleet: a fresh token from Redis, or the token this process fetched as the
   * lock holder (or alone, when Redis is unavailable). Never rejects because of Redis.
   */
  async coordinate(key: string, renewal: Renewal): Promise<RenewalResult> {
    const { names, signal: writes } = this.#bound;
    const keys = names.of(key);
    // A copy read from Redis is never the same object as the local token: compare the token itself,
    // so that the token the API just rejected is not taken back from Redis.
    const usable = (token: Token | undefined): token is Token =>
      token !== undefined && token.accessToken !== renewal.local?.accessToken && renewal.isFresh(token);
    const { signal } = renewal;
    const deadline = Date.now() + this.#settings.lockTtlMs * MAX_WAIT_LOCK_TTLS;
    // Redis down: a background renewal (its token is still served) waits for it as long as it would
    // wait for a holder, since a failover takes seconds; one that a caller needs renews alone.
    const waitForRedis = () => renewal.background === true && Date.now() < deadline;
    for (;;) {
      if (signal?.aborted) throw new AbortError(signal.reason);
      // Listen before reading, so that a write between the read and the wait wakes this one.
      const wait = writes.next(keys.entry, this.#settings.pollIntervalMs);
      signal?.addEventListener('abort', wait.cancel, { once: true });
      try {
        const read = await this.#entries.read(keys);
        if (read === UNAVAILABLE && !waitForRedis()) return await this.#alone(renewal);
        if (read === UNAVAILABLE) {
          await wait.promise;
          continue;
        }
        if (usable(read.token)) return this.#fromStore(read.token);
        const fence = await this.#lock.acquire(keys);
        if (fence === UNAVAILABLE && !waitForRedis()) return await this.#alone(renewal);
        if (fence !== undefined && fence !== UNAVAILABLE) return await this.#renewAsHolder(keys, fence, renewal, usable);
        if (Date.now() >= deadline) return await this.#renewUncoordinated(keys, read.version, renewal);
        await wait.promise;
      } finally {
        wait.cancel();
        signal?.removeEventListener('abort', wait.cancel);
      }
    }
  }

  /** Stops the store's own pub/sub connection and timers, and empties the LRU. Leaves `redis` open. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#link.close();
    this.#local.close();
    await this.#client?.signal.close();
  }

  /** A view for `console.log(store)`: no token, no key, no client id. */
  [inspect.custom](): string {
    const v = this.toJSON();
    return `RedisTokenStore { keyPrefix: ${JSON.stringify(v.keyPrefix)}, client: '${String(v.client)}', encrypted: ${String(v.encrypted)}, degraded: ${String(v.degraded)}, cached: ${String(v.cached)}, closed: ${String(v.closed)} }`;
  }

  /** What `JSON.stringify(store)` gives: the same view, as data. */
  toJSON(): Record<string, unknown> {
    return {
      keyPrefix: this.#settings.keyPrefix,
      client: this.#client === undefined ? undefined : clientHash(this.#client.id),
      encrypted: this.#encrypted,
      degraded: this.#link.degraded,
      cached: this.size,
      closed: this.#closed,
    };
  }

  // ── the protocol ──────────────────────────────────────────────────────────────────────────────

  /**
   * This process holds the lock: read again (a holder may have written between our read and our
   * lock), else fetch from the shared token — only a lock holder spends a shared refresh token;
   * with no shared token, client credentials (never a local refresh token, which the fleet may
   * have rotated since) — then write it if no newer token was written meanwhile.
   */
  async #renewAsHolder(
    keys: ScopeKeys,
    fence: string,
    renewal: Renewal,
    usable: (token: Token | undefined) => token is Token,
  ): Promise<RenewalResult> {
    const stopKeepAlive = this.#lock.keepAlive(keys, fence);
    try {
      const read = await this.#entries.read(keys);
      if (read === UNAVAILABLE) return await this.#alone(renewal);
      if (usable(read.token)) return this.#fromStore(read.token);
      const token = await renewal.fetch(read.token);
      // Refused means a newer token is there: this one is still valid, so it is used here anyway.
      const written = await this.#entries.write(keys, this.#bound.names.channel, read.version, token);
      if (written !== UNAVAILABLE) this.#shared.add(token);
      return { token, source: 'fetch' };
    } finally {
      stopKeepAlive();
      await this.#lock.release(keys, fence, this.#bound.names.channel);
    }
  }

  /** Waited past the bound for a live but slow holder: fetch with client credentials, write if still newest. */
  async #renewUncoordinated(keys: ScopeKeys, readVersion: number, renewal: Renewal): Promise<RenewalResult> {
    const token = await renewal.fetch(undefined);
    const written = await this.#entries.write(keys, this.#bound.names.channel, readVersion, token);
    if (written !== UNAVAILABLE) this.#shared.add(token);
    return { token, source: 'fetch' };
  }

  /** Redis is unavailable: renew as a store of one process would (save() shares it later if it can). */
  async #alone(renewal: Renewal): Promise<RenewalResult> {
    return { token: await renewal.fetch(renewal.local), source: 'fetch' };
  }

  #fromStore(token: Token): RenewalResult {
    this.#shared.add(token);
    return { token, source: 'store' };
  }

  #report(event: StoreEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        // A listener's bug must not break a renewal; surface it as Node would.
        process.nextTick(() => {
          throw error;
        });
      }
    }
  }
}
