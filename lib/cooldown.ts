/**
 * Remembers recent failures per scope, so that a failing endpoint is not asked again by every
 * caller that arrives after a failure: for a short, growing while, they get the same error.
 */
import { TokenEndpointError, type FluxTokenError } from './errors.js';

interface Failure {
  error: FluxTokenError;
  until: number;
  count: number;
}

/** The key under which a client-wide cool-down (after `invalid_client`) is kept. */
const CLIENT = Symbol('client');

/** Per-scope cool-downs with exponential growth, plus one for the whole client. */
export class Cooldowns {
  readonly #failures = new Map<string | typeof CLIENT, Failure>();
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #maxEntries: number;

  constructor({ baseMs, maxMs, maxEntries }: { baseMs: number; maxMs: number; maxEntries: number }) {
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
    this.#maxEntries = maxEntries;
  }

  /** How many scopes (or the client) are cooling down at `now`. */
  count(now: number): number {
    let n = 0;
    for (const failure of this.#failures.values()) if (failure.until > now) n++;
    return n;
  }

  /** The error to hand a caller of `key` at `now`, if it or the client is cooling down. */
  active(key: string, now: number): FluxTokenError | undefined {
    if (this.#failures.size === 0) return undefined;
    const client = this.#failures.get(CLIENT);
    if (client !== undefined && client.until > now) return client.error;
    const failure = this.#failures.get(key);
    return failure !== undefined && failure.until > now ? failure.error : undefined;
  }

  /** Records a failure of `key`; `invalid_client` also cools the whole client down. */
  fail(key: string, error: FluxTokenError, now: number): void {
    if (this.#baseMs === 0) return;
    this.#bump(key, error, now);
    if (error instanceof TokenEndpointError && error.error === 'invalid_client') this.#bump(CLIENT, error, now);
    if (this.#failures.size > this.#maxEntries) this.#prune(now);
  }

  /**
   * Forgets the failures of `key`, and the client-wide one too when `credentialsProven` (the
   * success came from a request that sent the client credentials).
   */
  succeed(key: string, credentialsProven: boolean): void {
    if (this.#failures.size === 0) return;
    this.#failures.delete(key);
    if (credentialsProven) this.#failures.delete(CLIENT);
  }

  #bump(key: string | typeof CLIENT, error: FluxTokenError, now: number): void {
    const previous = this.#failures.get(key);
    const count = previous !== undefined && previous.until + this.#maxMs > now ? previous.count + 1 : 1;
    let delay = Math.min(this.#baseMs * 2 ** (count - 1), this.#maxMs);
    // A server that said how long to wait is believed, within the cap.
    if (error instanceof TokenEndpointError && error.retryAfterMs !== undefined) {
      delay = Math.min(Math.max(delay, error.retryAfterMs), this.#maxMs);
    }
    this.#failures.delete(key);
    this.#failures.set(key, { error, until: now + delay, count });
  }

  #prune(now: number): void {
    for (const [key, failure] of this.#failures) {
      if (failure.until + this.#maxMs <= now || this.#failures.size > this.#maxEntries) this.#failures.delete(key);
    }
  }
}
