/**
 * The names the store uses in Redis. Every name starts with the key prefix and a hash of the
 * client id (never the id itself), so that clients sharing a Redis never meet, and a reader of
 * the key space learns no client id. The user id follows in clear, so that an operator can find a
 * user's entry.
 *
 *   <prefix><client hash>:token:client       the client-wide token
 *   <prefix><client hash>:token:user:<id>    the token of user <id>
 *   <prefix><client hash>:lock:client        the renewal lock of the client-wide token
 *   <prefix><client hash>:lock:user:<id>     the renewal lock of user <id>
 *   <prefix><client hash>:changes            pub/sub channel: an entry was written or its lock released
 *                                            (message: the entry's key name)
 *
 * `client` and `user:<id>` never collide, whatever the user id (even `''` is not a user id).
 */
import { createHash } from 'node:crypto';

/** Hex characters of sha256(client id) kept in key names: 64 bits, plenty to keep clients apart. */
const CLIENT_HASH_CHARS = 16;

/** The hash of a client id that appears in key names. */
export function clientHash(clientId: string): string {
  return createHash('sha256').update(clientId, 'utf8').digest('hex').slice(0, CLIENT_HASH_CHARS);
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

/** Makes every name of one client under one prefix. */
export class KeyNames {
  /** The pub/sub channel on which every write and every lock release is announced. */
  readonly channel: string;
  readonly #base: string;

  constructor(keyPrefix: string, clientId: string) {
    this.#base = `${keyPrefix}${clientHash(clientId)}:`;
    this.channel = `${this.#base}changes`;
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
