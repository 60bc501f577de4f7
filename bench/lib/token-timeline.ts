/**
 * The manager's default timeline for a token of a given lifetime (see lib/manager/expiry.ts), which the
 * soak's floor and the outage's timing are computed from.
 */
import {
  DEFAULT_EXPIRY_MARGIN_MS,
  DEFAULT_REFRESH_JITTER,
  DEFAULT_REFRESH_WINDOW_MS,
  MAX_MARGIN_FRACTION,
  MAX_WINDOW_FRACTION,
} from '../../lib/manager/expiry.js';

export interface Timeline {
  lifetimeMs: number;
  /** min(5 min, 25% of the lifetime). */
  refreshWindowMs: number;
  /** min(30 s, 10% of the lifetime). */
  marginMs: number;
  /** The renewal starts between these two offsets from the token's issue (the window, moved by jitter). */
  refreshFromMs: number;
  refreshToMs: number;
  /** The token stops being handed out at this offset. */
  usableUntilMs: number;
}

export function timelineOf(lifetimeMs: number): Timeline {
  const refreshWindowMs = Math.min(DEFAULT_REFRESH_WINDOW_MS, lifetimeMs * MAX_WINDOW_FRACTION);
  const marginMs = Math.min(DEFAULT_EXPIRY_MARGIN_MS, lifetimeMs * MAX_MARGIN_FRACTION);
  const refreshFromMs = lifetimeMs - refreshWindowMs;
  return {
    lifetimeMs,
    refreshWindowMs,
    marginMs,
    refreshFromMs,
    refreshToMs: refreshFromMs + refreshWindowMs * DEFAULT_REFRESH_JITTER,
    usableUntilMs: lifetimeMs - marginMs,
  };
}

/**
 * The fewest token calls a manager that renews ahead can make: one per user at the start, then one
 * per user every (lifetime − refresh window), over `durationMs`.
 */
export function tokenCallFloor(users: number, durationMs: number, t: Timeline): number {
  return users * (durationMs / (t.lifetimeMs - t.refreshWindowMs) + 1);
}
