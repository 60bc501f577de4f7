/**
 * Counters of what reached the emulator. Tests and benchmarks assert on them: how many token calls
 * a client made (against the floor), for which users, and why the API refused a request.
 * Keys that come from requests (scopes) live in Maps and are copied into null-prototype objects,
 * so that a user id such as `__proto__` or `constructor` is counted like any other.
 */

/** Why the per-user API answered 401. */
export type UnauthorizedReason = 'missing' | 'unknown' | 'expired' | 'wrong-user' | 'forced';

/** A snapshot of the emulator's counters, returned by `stats()`. A plain copy: mutate it freely. */
export interface EmulatorStats {
  /** Requests to `/auth/oauth/token`, faulted ones included. */
  tokenCalls: {
    /** Every request to the token path. */
    total: number;
    /** Requests per grant type (other or missing grant types are only in `total`). */
    byGrant: {
      /** Requests with `grant_type=client_credentials`. */
      client_credentials: number;
      /** Requests with `grant_type=refresh_token`. */
      refresh_token: number;
    };
    /**
     * Requests per user id, `*` for client-wide ones. A refresh call counts under the scope of its
     * refresh token, when the token is known. Null-prototype object.
     */
    byScope: Record<string, number>;
    /** Answers per HTTP status (`'200'`, `'400'`, ...). Hung and reset requests have none. Null-prototype object. */
    byStatus: Record<string, number>;
    /**
     * Tokens issued per user id, `*` for client-wide ones: answers that carried a new, well-formed
     * access token. Unlike `byScope`, failed and faulted calls are not in it. Null-prototype object.
     */
    issuedByScope: Record<string, number>;
    /** `invalid_grant` answers: refresh tokens reused, unknown or forgotten. */
    invalidGrant: number;
  };
  /** Requests to `/users/...`. */
  api: {
    /** Every request to the API. */
    total: number;
    /** Answers per HTTP status. Null-prototype object. */
    byStatus: Record<string, number>;
    /** 401 answers by reason. */
    unauthorized: Record<UnauthorizedReason, number>;
  };
  /** Token requests being handled right now (a hung one counts until its client gives up). */
  concurrentTokenCalls: number;
  /** The most token requests handled at once since start or the last `resetStats()`. */
  peakConcurrentTokenCalls: number;
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function toRecord(map: Map<string, number>): Record<string, number> {
  const record = Object.create(null) as Record<string, number>;
  for (const [key, value] of map) record[key] = value;
  return record;
}

function zeroUnauthorized(): Record<UnauthorizedReason, number> {
  return { missing: 0, unknown: 0, expired: 0, 'wrong-user': 0, forced: 0 };
}

/** The live counters behind {@link EmulatorStats}. */
export class StatsRecorder {
  #tokenTotal = 0;
  #byGrant = { client_credentials: 0, refresh_token: 0 };
  #byScope = new Map<string, number>();
  #tokenByStatus = new Map<string, number>();
  #issuedByScope = new Map<string, number>();
  #invalidGrant = 0;
  #apiTotal = 0;
  #apiByStatus = new Map<string, number>();
  #unauthorized = zeroUnauthorized();
  /** Token requests between `tokenCallStarted` and `tokenCallEnded`; not reset by `reset()`. */
  #concurrent = 0;
  #peak = 0;

  /** A token request arrived. Pair with {@link tokenCallEnded} when its connection is done with it. */
  tokenCallStarted(): void {
    this.#tokenTotal++;
    this.#concurrent++;
    if (this.#concurrent > this.#peak) this.#peak = this.#concurrent;
  }

  tokenCallEnded(): void {
    this.#concurrent--;
  }

  /** The grant and scope of a token request, once its form is read. */
  tokenGrant(grant: string | undefined, scope: string | null | undefined): void {
    if (grant === 'client_credentials' || grant === 'refresh_token') this.#byGrant[grant]++;
    if (scope !== undefined) increment(this.#byScope, scope ?? '*');
  }

  tokenAnswered(status: number, oauthError?: string): void {
    increment(this.#tokenByStatus, String(status));
    if (oauthError === 'invalid_grant') this.#invalidGrant++;
  }

  /** A token answer carried a new access token for `scope` (null for a client-wide one). */
  tokenIssued(scope: string | null): void {
    increment(this.#issuedByScope, scope ?? '*');
  }

  apiAnswered(status: number, reason?: UnauthorizedReason): void {
    this.#apiTotal++;
    increment(this.#apiByStatus, String(status));
    if (reason !== undefined) this.#unauthorized[reason]++;
  }

  snapshot(): EmulatorStats {
    return {
      tokenCalls: {
        total: this.#tokenTotal,
        byGrant: { ...this.#byGrant },
        byScope: toRecord(this.#byScope),
        byStatus: toRecord(this.#tokenByStatus),
        issuedByScope: toRecord(this.#issuedByScope),
        invalidGrant: this.#invalidGrant,
      },
      api: { total: this.#apiTotal, byStatus: toRecord(this.#apiByStatus), unauthorized: { ...this.#unauthorized } },
      concurrentTokenCalls: this.#concurrent,
      peakConcurrentTokenCalls: this.#peak,
    };
  }

  /** Zeroes the counters. The requests in flight stay in flight, and set the new peak. */
  reset(): void {
    this.#tokenTotal = 0;
    this.#byGrant = { client_credentials: 0, refresh_token: 0 };
    this.#byScope.clear();
    this.#tokenByStatus.clear();
    this.#issuedByScope.clear();
    this.#invalidGrant = 0;
    this.#apiTotal = 0;
    this.#apiByStatus.clear();
    this.#unauthorized = zeroUnauthorized();
    this.#peak = this.#concurrent;
  }
}
