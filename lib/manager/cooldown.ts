/**
 * Remembers recent failures per scope, so that a failing endpoint is not asked again by every
 * caller that arrives after a failure: for a short, growing while, they get the same error.
 */
import { InvalidTokenResponseError, TokenEndpointError, type FluxTokenError } from '../shared/errors.js';

interface Failure {
  error: FluxTokenError;
  /** When the failure was recorded: a flight started before it overlapped it, and shares its cause. */
  at: number;
  until: number;
  count: number;
}

/** The key under which a client-wide cool-down (after `invalid_client`) is kept. */
const CLIENT = Symbol('client');

/** The bounds of a cool-down: its first step, its longest step, and how many scopes are tracked. */
export interface CooldownLimits {
  baseMs: number;
  maxMs: number;
  maxEntries: number;
}

/** The `count`-th step of a cool-down: doubling from `baseMs`, up to `maxMs`. */
function stepMs(count: number, { baseMs, maxMs }: CooldownLimits): number {
  return Math.min(baseMs * 2 ** (count - 1), maxMs);
}

/**
 * Whether a caller may probe the cool-down that `error` started, rather than get `error` at once.
 * A transient failure (a 5xx, a timeout, a malformed answer) is only a guess about how long the
 * endpoint stays down: while its cool-down holds, one request at a time (the scope's one flight,
 * which every caller joins) finds out, so that no caller who comes after the endpoint recovered is
 * handed an error it no longer gives. A refusal the server will repeat (`invalid_client`,
 * `invalid_grant`, ..., or a token for the wrong user), and a wait the server asked for
 * (`Retry-After`), hold as they are: asking again sooner only feeds a lockout, or ignores what
 * the server said.
 */
export function mayProbe(error: FluxTokenError): boolean {
  if (error instanceof InvalidTokenResponseError && ANSWERS_THE_SAME.has(error.reason)) return false;
  return (error as { retryable?: unknown }).retryable === true && !(error instanceof TokenEndpointError && error.retryAfterMs !== undefined);
}

/** Well-formed answers the server gives every time (a token for the wrong user, or none it can show). */
const ANSWERS_THE_SAME: ReadonlySet<string> = new Set(['scope_mismatch', 'unbound_token', 'unreadable_jws']);

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

  /**
   * Records a failure of `key`. An `invalid_client` answer to a request that carried the client
   * credentials (`credentialsSent`) also cools the whole client down; one to a request without
   * them proves nothing about the credentials. `startedAt` is when the failed flight was started (a
   * caller asked): one started no later than the current failure was recorded, queued or in flight,
   * overlapped it, and counts once with it (twenty
   * users refused together by a restarting server are one failure, not twenty doublings).
   */
  fail(key: string, error: FluxTokenError, now: number, credentialsSent = true, startedAt = now): void {
    if (this.#baseMs === 0) return;
    this.#bump(key, error, now, startedAt);
    if (credentialsSent && error instanceof TokenEndpointError && error.error === 'invalid_client') this.#bump(CLIENT, error, now, startedAt);
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

  #bump(key: string | typeof CLIENT, error: FluxTokenError, now: number, startedAt: number): void {
    const previous = this.#failures.get(key);
    if (previous !== undefined && startedAt <= previous.at) return;
    const count = previous !== undefined && previous.until + this.#maxMs > now ? previous.count + 1 : 1;
    let delay = stepMs(count, { baseMs: this.#baseMs, maxMs: this.#maxMs, maxEntries: this.#maxEntries });
    // A server that said how long to wait is believed, within the cap.
    if (error instanceof TokenEndpointError && error.retryAfterMs !== undefined) {
      delay = Math.min(Math.max(delay, error.retryAfterMs), this.#maxMs);
    }
    this.#failures.delete(key);
    this.#failures.set(key, { error, at: now, until: now + delay, count });
  }

  #prune(now: number): void {
    for (const [key, failure] of this.#failures) {
      if (failure.until + this.#maxMs <= now || this.#failures.size > this.#maxEntries) this.#failures.delete(key);
    }
  }
}

/** A replacement rejected within this fraction of its life (and one step) makes a 401 loop. */
const LOOP_FRACTION = 0.1;

interface Replacement {
  /** The access token obtained to replace one the API rejected. */
  accessToken: string;
  /** When it was obtained. */
  at: number;
  /** Its lifetime, in ms. */
  lifetimeMs: number;
  /** Until when a 401 to it does not replace it (0: it has had no 401 yet). */
  until: number;
  /** Replacements of this scope rejected in a row. */
  count: number;
}

/**
 * 401 loop protection. When the API rejects a token, the adapters invalidate it and replace it once.
 * If the token obtained to replace it is rejected too (the server hands out tokens the API does
 * not take, or binds them to the wrong user), replacing it once per request would cost one token
 * request per API request. Instead, that scope waits out a cool-down (doubling, up to `maxMs`)
 * before its next replacement, and meanwhile the API's 401 goes back to the caller.
 */
export class RejectionGuard {
  readonly #replacements = new Map<string, Replacement>();
  readonly #limits: CooldownLimits;

  constructor(limits: CooldownLimits) {
    this.#limits = limits;
  }

  /** Records that `accessToken` (of `lifetimeMs`) was obtained for `key` to replace a rejected token. */
  replaced(key: string, accessToken: string, now: number, lifetimeMs: number): void {
    const previous = this.#replacements.get(key);
    // A loop that calmed down long ago starts over.
    const count = previous !== undefined && previous.until + this.#limits.maxMs > now ? previous.count : 0;
    this.#replacements.delete(key);
    this.#replacements.set(key, { accessToken, at: now, lifetimeMs, until: 0, count });
    if (this.#replacements.size > this.#limits.maxEntries) this.#replacements.delete(this.#replacements.keys().next().value!);
  }

  /**
   * Whether a 401 to `accessToken` of `key` at `now` may replace it. False for a replacement's first
   * 401 soon after it was obtained (within one cool-down step and the first tenth of its life),
   * which starts the cool-down, and during the cool-down; true otherwise.
   */
  mayReplace(key: string, accessToken: string, now: number): boolean {
    if (this.#limits.baseMs === 0 || this.#replacements.size === 0) return true;
    const entry = this.#replacements.get(key);
    if (entry === undefined || entry.accessToken !== accessToken) return true;
    if (entry.until === 0) {
      const step = stepMs(entry.count + 1, this.#limits);
      // A loop rejects a new token at once. One rejected later (say, it went stale while requests
      // queued) is replaced as usual.
      if (now - entry.at >= Math.min(step, entry.lifetimeMs * LOOP_FRACTION)) {
        this.#replacements.delete(key);
        return true;
      }
      entry.count++;
      entry.until = now + step;
      return false;
    }
    return now >= entry.until;
  }
}
