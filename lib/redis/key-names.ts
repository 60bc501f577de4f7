/**
 * The names the store uses in Redis. Every name starts with the key prefix and a hash of the
 * client id and the token endpoint's URL (never the id or the URL themselves), so that clients
 * sharing a Redis never meet, nor do two endpoints that know the same client id (staging and
 * production), and a reader of the key space learns no client id. The user id follows in clear, so
 * that an operator can find a user's entry.
 *
 *   <prefix><namespace>:token:client       the client-wide token
 *   <prefix><namespace>:token:user:<id>    the token of user <id>
 *   <prefix><namespace>:lock:client        the renewal lock of the client-wide token
 *   <prefix><namespace>:lock:user:<id>     the renewal lock of user <id>
 *   <prefix><namespace>:budget             the fleet's recent token requests (rateLimit), a sorted set
 *   <prefix><namespace>:fleet              the live processes (rateLimit), a sorted set of heartbeats
 *   <prefix><namespace>:changes            pub/sub channel: an entry was written or its lock released
 *                                          (message: the entry's key name)
 *
 * `client` and `user:<id>` never collide, whatever the user id (even `''` is not a user id).
 */
import { createHash } from 'node:crypto';

/** Hex characters of the namespace hash kept in key names: 64 bits, plenty to keep clients apart. */
const CLIENT_HASH_CHARS = 16;

/**
 * The namespace that appears in key names: the first 16 hex characters of sha256 of the client id
 * and, when there is one, a newline and the token URL (`href`, which never holds a newline, so two
 * pairs never hash the same input). A store given to a TokenManager always has the manager's token
 * URL; one used alone, with only a `clientId`, hashes the client id alone.
 */
export function clientHash(clientId: string, tokenUrl?: URL | string): string {
  const hash = createHash('sha256').update(clientId, 'utf8');
  if (tokenUrl !== undefined) hash.update(`\n${new URL(tokenUrl).href}`, 'utf8');
  return hash.digest('hex').slice(0, CLIENT_HASH_CHARS);
}

/** The Redis names of one manager key (a user id, or `''` for the client-wide token). */
export interface ScopeKeys {
  /** Where the token is stored. */
  readonly entry: string;
  /** The renewal lock. */
  readonly lock: string;
  /** The user id, or undefined for the client-wide token (for events). */
  readonly scope: string | undefined;
}

/** Makes every name of one client and token endpoint under one prefix. */
export class KeyNames {
  /** The namespace hash (see {@link clientHash}). */
  readonly hash: string;
  /** The pub/sub channel on which every write and every lock release is announced. */
  readonly channel: string;
  /** The sorted set of the fleet's recent token requests, with `rateLimit` (see fleet-budget.ts). */
  readonly budget: string;
  /** The roll call of live processes, with `rateLimit`: each process's share of the budget without Redis. */
  readonly fleet: string;
  readonly #base: string;

  constructor(keyPrefix: string, clientId: string, tokenUrl?: URL | string) {
    this.hash = clientHash(clientId, tokenUrl);
    this.#base = `${keyPrefix}${this.hash}:`;
    this.channel = `${this.#base}changes`;
    this.budget = `${this.#base}budget`;
    this.fleet = `${this.#base}fleet`;
  }

  /** The names for the manager's `key`: `''` is the client-wide token, anything else a user id. */
  of(key: string): ScopeKeys {
    const suffix = key === '' ? 'client' : `user:${key}`;
    return {
      entry: `${this.#base}token:${suffix}`,
      lock: `${this.#base}lock:${suffix}`,
      scope: key === '' ? undefined : key,
    };
  }
}
