/**
 * The counters behind `stats()`. The manager and its grant policy count into one object, and
 * `stats()` turns it, with the gauges read at that moment, into the public shape; kept apart so
 * that the shape of the public figures is decided in one place.
 */
import type { TokenManagerStats } from './manager-events.js';

/** The counters behind `stats()`, shared by the manager and its grant policy. */
export interface Counters {
  hits: number;
  misses: number;
  /** Callers who waited for a flight of their scope already in progress. */
  joined: number;
  /** Token requests with the client-credentials grant. */
  client_credentials: number;
  /** Token requests with the refresh grant. */
  refresh_token: number;
  /** Refreshes ahead of expiry started. */
  backgroundRefreshes: number;
  failures: number;
}

/** Counters at zero, for a new manager. */
export function newCounters(): Counters {
  return { hits: 0, misses: 0, client_credentials: 0, refresh_token: 0, backgroundRefreshes: 0, failures: 0, joined: 0 };
}

/** The gauges of `stats()`: read from the manager's parts when `stats()` is called. */
export type Gauges = Pick<TokenManagerStats, 'inFlight' | 'cached' | 'scheduled' | 'coolingDown' | 'clockOffsetMs'>;

/** The public figures of `stats()`: a copy of the counters, with the endpoint calls totalled, and the gauges. */
export function statsOf(counters: Counters, gauges: Gauges): TokenManagerStats {
  const s = counters;
  return {
    hits: s.hits,
    misses: s.misses,
    joined: s.joined,
    endpointCalls: {
      client_credentials: s.client_credentials,
      refresh_token: s.refresh_token,
      total: s.client_credentials + s.refresh_token,
    },
    backgroundRefreshes: s.backgroundRefreshes,
    failures: s.failures,
    ...gauges,
  };
}
