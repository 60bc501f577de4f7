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
import { ConfigurationError } from '../shared/errors.js';
import { LruTokenStore } from '../store/lru-store.js';
import type { Token } from '../endpoint/token.js';
import type { EvictionListener, RecordKeeper, Renewal, RenewalResult, StoreEvent, TokenStore } from '../store/token-store.js';
import { EntryCodec } from './entry-codec.js';
import { FleetBudget } from './fleet-budget.js';
import { FleetRenewal } from './fleet-renewal.js';
import { clientHash, KeyNames } from './key-names.js';
import { resolveRedisStoreOptions, type RedisStoreSettings, type RedisTokenStoreOptions } from './options.js';
import { RedisLink } from './redis-link.js';
import { RenewalLock } from './renewal-lock.js';
import { SharedEntries } from './shared-entries.js';
import { WriteSignal } from './write-signal.js';

const noop = () => {};

/** What a `degraded` event adds when the store has a `rateLimit`. */
export const RATE_LIMIT_SUSPENDED = 'each process keeps to its share of the limit until Redis answers';

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
  /** The client id: from the `clientId` option, or from the manager in bind(). */
  #clientId: string | undefined;
  /** The manager's token URL, from bind(): key names hold it (hashed) with the client id. */
  #tokenUrl: URL | undefined;
  /** Key names and the write signal, fixed at first use (see `#bound`). */
  #client: { names: KeyNames; signal: WriteSignal } | undefined;
  readonly #link: RedisLink;
  readonly #entries: SharedEntries;
  /** The protocol of a renewal across the fleet: lock, budget, holder and waiter. */
  readonly #protocol: FleetRenewal;
  readonly #rateLimited: boolean;
  /** The fleet's budget, with `rateLimit`: it beats in the fleet's roll call from the first renewal on. */
  readonly #budget: FleetBudget | undefined;
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
    this.#link = new RedisLink(s.redis, { commandTimeoutMs: s.commandTimeoutMs, outageTimeoutMs: s.outageTimeoutMs, report });
    const codec = new EntryCodec(s.encryptionKey);
    this.#encrypted = codec.encrypted;
    this.#entries = new SharedEntries(this.#link, codec, report);
    this.#rateLimited = s.rateLimit !== undefined;
    this.#budget = s.rateLimit === undefined ? undefined : new FleetBudget(this.#link, s.rateLimit, s.lockTtlMs);
    this.#protocol = new FleetRenewal({
      entries: this.#entries,
      lock: new RenewalLock(this.#link, s.lockTtlMs),
      budget: this.#budget,
      lockTtlMs: s.lockTtlMs,
      pollIntervalMs: s.pollIntervalMs,
      shared: (token) => this.#shared.add(token),
    });
    this.#clientId = s.clientId;
  }

  /**
   * The key names and signal of this store's namespace (client id and token URL). The manager binds
   * the store in its constructor, before any use; from then on the namespace never changes.
   */
  get #bound(): { names: KeyNames; signal: WriteSignal } {
    if (this.#client === undefined) {
      if (this.#clientId === undefined) {
        throw new ConfigurationError('store', 'Expected the RedisTokenStore to be given to a TokenManager (or a `clientId`) before use');
      }
      const names = new KeyNames(this.#settings.keyPrefix, this.#clientId, this.#tokenUrl);
      this.#client = { names, signal: new WriteSignal(this.#settings.redis, names.channel) };
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

  /** The in-process LRU keeps the manager's records, as the default store does. */
  keepRecords(): RecordKeeper | undefined {
    return this.#local.keepRecords();
  }

  /**
   * Takes the manager's client id and token URL, which key names hold (hashed): two managers of one
   * client id but different token endpoints (staging, production) sharing a Redis and a prefix
   * never see each other's tokens. With a `clientId` option, refuses a manager of another client: a
   * mismatch (a typo, a copied config) would share one client's tokens with another. Refuses a
   * second endpoint once the namespace is in use: a store serves one endpoint.
   */
  bind(client: { clientId: string; tokenUrl: URL }): void {
    if (this.#clientId !== undefined && client.clientId !== this.#clientId) {
      throw new ConfigurationError(
        'store',
        'Expected the RedisTokenStore `clientId` to equal the TokenManager `clientId`: key names hold it, and tokens must never cross clients',
      );
    }
    const otherEndpoint = this.#tokenUrl !== undefined && this.#tokenUrl.href !== client.tokenUrl.href;
    if (otherEndpoint || (this.#client !== undefined && this.#client.names.hash !== clientHash(client.clientId, client.tokenUrl))) {
      throw new ConfigurationError(
        'store',
        'Expected the RedisTokenStore to serve one token endpoint: it is already in use for another `tokenUrl` (give each TokenManager a store of its own)',
      );
    }
    this.#clientId = client.clientId;
    this.#tokenUrl = client.tokenUrl;
  }

  onStoreEvent(listener: (event: StoreEvent) => void): void {
    this.#listeners.push(listener);
  }

  /**
   * One renewal for the fleet: a fresh token from Redis, or the token this process fetched as the
   * lock holder (or alone, when Redis is unavailable). Never rejects because of Redis.
   */
  coordinate(key: string, renewal: Renewal): Promise<RenewalResult> {
    const { names, signal } = this.#bound;
    if (!this.#closed) this.#budget?.join(names.fleet);
    return this.#protocol.renew(names, signal, key, renewal);
  }

  /** Stops the store's own pub/sub connection and timers, and empties the LRU. Leaves `redis` open. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#budget?.close();
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
      client: this.#clientId === undefined ? undefined : (this.#client?.names.hash ?? clientHash(this.#clientId, this.#tokenUrl)),
      encrypted: this.#encrypted,
      degraded: this.#link.degraded,
      fleetSize: this.#budget?.fleetSize,
      cached: this.size,
      closed: this.#closed,
    };
  }

  #report(news: StoreEvent): void {
    // Without Redis there is no fleet-wide budget: say so where the loss of Redis is reported.
    const event =
      news.kind === 'degraded' && this.#rateLimited
        ? { ...news, detail: `${news.detail}; rateLimit: ${RATE_LIMIT_SUSPENDED}` }
        : news;
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
