/**
 * The bookkeeping types the manager's parts share: a cached token's record and a flight. Kept in
 * one place so that no part imports another only for its types.
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
 * The record of one cached token, as the manager sees it: the {@link TokenRecord} a store holds,
 * with the manager's fields. A store that keeps records holds it as its value for the key;
 * otherwise it sits beside the store, in a WeakMap keyed by the token object (see record-table.ts).
 */
export interface ManagedRecord extends Scheduled, TokenRecord {
  readonly key: string;
  readonly token: Token;
  /** Last instant (exclusive) at which the token is handed out. */
  readonly usableUntil: number;
  /** Handed out since it was cached: only used tokens are refreshed ahead of expiry. */
  used: boolean;
  /** Rejected by the API (a 401): never handed out again; its refresh token may still serve its replacement. */
  rejected: boolean;
  /** Background flights for this token that failed in a row. */
  failures: number;
}

/** The one renewal in progress for one scope, shared by every caller that needs it. */
export interface Flight {
  readonly id: string;
  /** True while no caller waits for it; a waiting caller turns it into a foreground flight. */
  background: boolean;
  /** The grant of the token request being made, for the failure report. */
  grant: 'client_credentials' | 'refresh_token';
  /**
   * Whether that request carried the client credentials: only a refusal of one that did says
   * anything about them, and may cool the whole client down.
   */
  credentialsSent: boolean;
  /**
   * When the flight was started (a caller asked, or a refresh ahead of expiry fell due). A failure
   * of a flight started before the current failure of its scope was recorded overlapped it: it
   * counts once.
   */
  readonly startedAt: number;
  promise: Promise<Token>;
  /** The queue's id of this flight's attempt waiting for a slot, if one is (see wire-queue.ts). */
  queued?: string | undefined;
  /** Ends the reservation held for this flight's next attempt, if one is (see wire-queue.ts). */
  reserved?: (() => void) | undefined;
  /** The record of the token this flight supersedes, set when its renewal runs: it may be rejected meanwhile. */
  superseded: ManagedRecord | undefined;
}
