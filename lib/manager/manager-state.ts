/**
 * The bookkeeping types the manager and its renewal and failure policies share: a cached token's
 * slot, a flight, and the counters behind `stats()`.
 */
import type { Scheduled } from './refresh-scheduler.js';
import type { Token } from '../endpoint/token.js';
import type { TokenRecord } from '../store/token-store.js';

/** The store key of the client-wide token. User ids are non-empty, so it collides with none. */
export const CLIENT_WIDE_KEY = '';

/** The scope of a store key: a user id, or undefined for the client-wide token. */
export function scopeOf(key: string): string | undefined {
  return key === CLIENT_WIDE_KEY ? undefined : key;
}

/**
 * Per-token bookkeeping. A store that keeps records holds it as its value for the key; otherwise
 * it sits beside the store, in a WeakMap keyed by the token object (see slot-table.ts).
 */
export interface Slot extends Scheduled, TokenRecord {
  readonly key: string;
  readonly token: Token;
  /** Last instant (exclusive) at which the token is handed out. */
  readonly usableUntil: number;
  /** Handed out since it was cached: only used tokens are renewed ahead of expiry. */
  used: boolean;
  /** Rejected by the API (a 401): never handed out again; its refresh token may still renew it. */
  rejected: boolean;
  /** Background renewals that failed in a row. */
  failures: number;
}

/** One request for one scope, shared by every caller that needs it. */
export interface Flight {
  readonly id: string;
  /** True while no caller waits for it; a waiting caller turns it into a foreground flight. */
  background: boolean;
  /** The grant of the request being made, for the failure report. */
  grant: 'client_credentials' | 'refresh_token';
  /**
   * Whether that request carried the client credentials: only a refusal of one that did says
   * anything about them, and may cool the whole client down.
   */
  credentialsSent: boolean;
  /**
   * When the flight was started (a caller asked, or a renewal fell due). A failure of a flight
   * started before the current failure of its scope was recorded overlapped it: it counts once.
   */
  readonly startedAt: number;
  promise: Promise<Token>;
  /** The slot of the token this request replaces, set when the request runs: it may be rejected meanwhile. */
  replaces: Slot | undefined;
}

/** The counters behind `stats()`, shared by the manager and its policies. */
export interface Counters {
  hits: number;
  misses: number;
  /** Callers who waited for a request of their scope already in flight. */
  joined: number;
  client_credentials: number;
  refresh_token: number;
  backgroundRefreshes: number;
  failures: number;
}
