/**
 * The timeline of a token, in one place:
 *
 *   issuedAt ──────────── refreshAt ─────────── expiresAt − margin ──── expiresAt
 *   served, no refresh    served; one background  not served: callers wait
 *                         refresh is started      for a new token
 *
 * The *margin* covers clock differences between client and server and the time a request takes
 * to reach the API; golang/oauth2 calls it `expiryDelta`. The *refresh window* is how far ahead a
 * token is refreshed in the background, so that callers never wait for it. Both are capped as a
 * fraction of the token's lifetime, so that short-lived tokens (seconds, in tests and demos) still
 * have a usable life.
 */
import type { Token } from '../endpoint/token.js';

/** Default margin before expiry after which a token is no longer handed out: 30 s. */
export const DEFAULT_EXPIRY_MARGIN_MS = 30_000;
/** The margin never exceeds this fraction of the token's lifetime. */
export const MAX_MARGIN_FRACTION = 0.1;
/** Default refresh window: the refresh ahead of expiry starts 5 min before expiry. */
export const DEFAULT_REFRESH_WINDOW_MS = 5 * 60_000;
/** The refresh window never exceeds this fraction of the token's lifetime. */
export const MAX_WINDOW_FRACTION = 0.25;
/**
 * Default jitter: each token's refresh starts at a random point in the last 10% of its window's
 * length after the window opens, so that tokens issued together are not all refreshed at one instant.
 */
export const DEFAULT_REFRESH_JITTER = 0.1;

/** The expiry policy of a manager. */
export interface ExpiryPolicy {
  /** Margin before expiry, in ms. */
  expiryMarginMs: number;
  /** Refresh window before expiry, in ms. */
  refreshWindowMs: number;
  /** Fraction (0 to 1) of the window used as random delay of its start. */
  jitter: number;
}

function lifetimeOf(token: Token): number {
  return Math.max(0, token.expiresAt - token.issuedAt);
}

/** The margin for this token: the policy's, capped at 10% of the lifetime. */
export function marginOf(token: Token, policy: ExpiryPolicy): number {
  return Math.min(policy.expiryMarginMs, lifetimeOf(token) * MAX_MARGIN_FRACTION);
}

/** The last instant (exclusive) at which the token may be handed out. */
export function usableUntil(token: Token, policy: ExpiryPolicy): number {
  return token.expiresAt - marginOf(token, policy);
}

/**
 * When the background refresh of this token should start: the window (capped at 25% of the
 * lifetime) before expiry, moved later by up to `jitter` of the window. `random` is injectable.
 */
export function refreshAtOf(token: Token, policy: ExpiryPolicy, random: () => number = Math.random): number {
  const window = Math.min(policy.refreshWindowMs, lifetimeOf(token) * MAX_WINDOW_FRACTION);
  const start = token.expiresAt - window + window * policy.jitter * random();
  // Never later than the end of usability, or callers would wait.
  return Math.min(start, usableUntil(token, policy));
}
