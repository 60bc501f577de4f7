/**
 * What the demo's HTML report draws, collected while the demo runs: each token's life (from the
 * manager's `token` events), failed renewals (`refreshFailed`), every answer of the token endpoint,
 * the outage, and per second the requests and the time callers waited in `getToken`.
 *
 * It keeps no token and no secret: the events carry none, a failure keeps only its error `code`, and
 * a token-endpoint answer only its status. Times are ms since `start()`, read from an injected clock
 * that must be the manager's (both default to `Date.now`), because token events carry `expiresAt`
 * in that clock.
 */
import { DEFAULT_EXPIRY_MARGIN_MS, DEFAULT_REFRESH_WINDOW_MS, MAX_MARGIN_FRACTION, MAX_WINDOW_FRACTION } from '../../manager/expiry.js';
import type { RefreshFailedEvent, TokenEvent, TokenSourceKind } from '../../manager/manager-events.js';
import { LatencyRecorder } from '../latency.js';

/** One token of one user, in ms since the start of the run. */
export interface TokenSpan {
  /** The user id; `*` for the client-wide token. */
  scope: string;
  grant: TokenSourceKind;
  /** True when no caller waited for it (a renewal ahead of expiry). */
  background: boolean;
  /** When it was requested (its lifetime counts from there, as the manager counts it). */
  issuedAt: number;
  /** When its refresh window opens: background renewal may start from here. */
  windowStart: number;
  /** When its margin starts: from here on it is no longer handed out. */
  marginStart: number;
  expiresAt: number;
  /** When the next token of the same user arrived, if one did. */
  replacedAt?: number;
}

/** A failed token request of the manager (after the endpoint client's own retries). */
export interface FailureMark {
  scope: string;
  at: number;
  grant: 'client_credentials' | 'refresh_token';
  background: boolean;
  /** What the manager does next: `retry`, `fallback` or `give-up`. */
  next: RefreshFailedEvent['next'];
  /** The error's stable code, e.g. `server_error`. */
  code: string;
}

/** One answer of the token endpoint, as the HTTP client saw it (retried attempts included). */
export interface TokenCallMark {
  at: number;
  /** The HTTP status, or 0 when the request got no answer (reset, timeout). */
  status: number;
}

/** The requests and `getToken` waits of one second of the run. */
export interface SecondStats {
  /** 0 for the first second of the run. */
  second: number;
  requests: number;
  failed: number;
  /** How many `getToken` calls ended in this second. */
  waits: number;
  waitP50: number;
  waitP99: number;
  waitMax: number;
}

/** A stretch of time during which the token endpoint was down. */
export interface Interval {
  from: number;
  to: number;
}

/** Everything the report draws, in ms since the start of the run. */
export interface TimelineData {
  /** The end of the drawn time axis: the last thing recorded (a token's expiry, usually). */
  endsAt: number;
  /** When the workers stopped: `finish()`, or the last thing recorded if it was not called. */
  runEndsAt: number;
  outages: Interval[];
  /** Every scope that got a token, in natural order (`user-2` before `user-10`). */
  users: string[];
  tokens: TokenSpan[];
  failures: FailureMark[];
  tokenCalls: TokenCallMark[];
  seconds: SecondStats[];
}

/** The expiry policy the manager runs with; the demo's manager uses the defaults. */
export interface TimelinePolicy {
  expiryMarginMs: number;
  refreshWindowMs: number;
}

/** The manager's events the recorder listens to. */
export interface TimelineEventSource {
  on(event: 'token', listener: (event: TokenEvent) => void): unknown;
  on(event: 'refreshFailed', listener: (event: RefreshFailedEvent) => void): unknown;
  off(event: 'token', listener: (event: TokenEvent) => void): unknown;
  off(event: 'refreshFailed', listener: (event: RefreshFailedEvent) => void): unknown;
}

/** Samples kept per second for the wait percentiles; beyond that, a reservoir sample. */
const WAIT_SAMPLES_PER_SECOND = 10_000;

const naturalOrder = new Intl.Collator('en', { numeric: true }).compare;

/** Collects a {@link TimelineData} while the demo runs. */
export class TimelineRecorder {
  readonly #now: () => number;
  readonly #policy: TimelinePolicy;
  #startedAt: number | undefined;
  #finishedAt: number | undefined;
  readonly #tokens: TokenSpan[] = [];
  /** The latest token of each scope, whose `replacedAt` the next one sets. */
  readonly #latest = new Map<string, TokenSpan>();
  readonly #failures: FailureMark[] = [];
  readonly #tokenCalls: TokenCallMark[] = [];
  readonly #outages: Interval[] = [];
  #outageFrom: number | undefined;
  /** Per second: requests, failed requests, and the `getToken` waits. */
  readonly #seconds: { requests: number; failed: number; waits: LatencyRecorder }[] = [];

  /** `now` must be the manager's clock (ms since the epoch); `policy` its expiry policy. */
  constructor(options: { now?: () => number; policy?: Partial<TimelinePolicy> } = {}) {
    this.#now = options.now ?? Date.now;
    this.#policy = {
      expiryMarginMs: options.policy?.expiryMarginMs ?? DEFAULT_EXPIRY_MARGIN_MS,
      refreshWindowMs: options.policy?.refreshWindowMs ?? DEFAULT_REFRESH_WINDOW_MS,
    };
  }

  /** Time zero of the run. Called once, before anything is recorded. */
  start(): void {
    this.#startedAt = this.#now();
  }

  /** Listens to a manager's `token` and `refreshFailed` events; returns the function that stops. */
  attach(manager: TimelineEventSource): () => void {
    const onToken = (event: TokenEvent) => this.token(event);
    const onFailed = (event: RefreshFailedEvent) => this.refreshFailed(event);
    manager.on('token', onToken);
    manager.on('refreshFailed', onFailed);
    return () => {
      manager.off('token', onToken);
      manager.off('refreshFailed', onFailed);
    };
  }

  /** A new token is cached: one more bar in its user's lane. */
  token(event: TokenEvent): void {
    const scope = event.scope ?? '*';
    const lifetime = event.expiresIn * 1000;
    const expiresAt = this.#relative(event.expiresAt);
    const issuedAt = expiresAt - lifetime;
    // The manager's caps (lib/manager/expiry.ts): at most 25% of the lifetime for the window, 10% for the margin.
    const window = Math.min(this.#policy.refreshWindowMs, lifetime * MAX_WINDOW_FRACTION);
    const margin = Math.min(this.#policy.expiryMarginMs, lifetime * MAX_MARGIN_FRACTION);
    const span: TokenSpan = {
      scope,
      grant: event.grant,
      background: event.background,
      issuedAt,
      windowStart: expiresAt - window,
      marginStart: expiresAt - margin,
      expiresAt,
    };
    const previous = this.#latest.get(scope);
    if (previous !== undefined) previous.replacedAt = Math.max(issuedAt, previous.issuedAt);
    this.#latest.set(scope, span);
    this.#tokens.push(span);
  }

  /** A token request of the manager failed. */
  refreshFailed(event: RefreshFailedEvent): void {
    this.#failures.push({
      scope: event.scope ?? '*',
      at: this.#elapsed(),
      grant: event.grant,
      background: event.background,
      next: event.next,
      code: event.error.code,
    });
  }

  /** The token endpoint answered with `status` (0: no answer). */
  tokenCall(status: number): void {
    this.#tokenCalls.push({ at: this.#elapsed(), status });
  }

  /** The token endpoint goes down (`true`) or comes back (`false`). */
  outage(down: boolean): void {
    if (down && this.#outageFrom === undefined) this.#outageFrom = this.#elapsed();
    else if (!down && this.#outageFrom !== undefined) {
      this.#outages.push({ from: this.#outageFrom, to: this.#elapsed() });
      this.#outageFrom = undefined;
    }
  }

  /** A request of a worker ended. */
  request(ok: boolean): void {
    const second = this.#second();
    second.requests++;
    if (!ok) second.failed++;
  }

  /** A `getToken` call ended after `ms`. */
  tokenWait(ms: number): void {
    this.#second().waits.record(ms);
  }

  /** The end of the run; later records still extend the axis. Closes an outage still open. */
  finish(): void {
    this.outage(false);
    this.#finishedAt = this.#elapsed();
  }

  /** A copy of what was recorded. */
  data(): TimelineData {
    const tokens = this.#tokens.map((span) => ({ ...span }));
    const outages = this.#outages.map((interval) => ({ ...interval }));
    if (this.#outageFrom !== undefined) outages.push({ from: this.#outageFrom, to: this.#elapsed() });
    const runEndsAt = this.#finishedAt ?? this.#elapsed();
    // A loop, not Math.max(...all): a long run has more entries than a call can take arguments.
    let endsAt = Math.max(runEndsAt, this.#seconds.length * 1000);
    for (const t of tokens) endsAt = Math.max(endsAt, t.expiresAt);
    for (const f of this.#failures) endsAt = Math.max(endsAt, f.at);
    for (const c of this.#tokenCalls) endsAt = Math.max(endsAt, c.at);
    return {
      endsAt,
      runEndsAt,
      outages,
      users: [...new Set(tokens.map((t) => t.scope))].sort(naturalOrder),
      tokens,
      failures: this.#failures.map((f) => ({ ...f })),
      tokenCalls: this.#tokenCalls.map((c) => ({ ...c })),
      seconds: this.#seconds.map((s, second) => ({
        second,
        requests: s.requests,
        failed: s.failed,
        waits: s.waits.count,
        waitP50: s.waits.percentile(50),
        waitP99: s.waits.percentile(99),
        waitMax: s.waits.max,
      })),
    };
  }

  #relative(epochMs: number): number {
    if (this.#startedAt === undefined) throw new Error('TimelineRecorder: call start() before recording');
    return epochMs - this.#startedAt;
  }

  #elapsed(): number {
    return this.#relative(this.#now());
  }

  #second() {
    const index = Math.max(0, Math.floor(this.#elapsed() / 1000));
    while (this.#seconds.length <= index) {
      this.#seconds.push({ requests: 0, failed: 0, waits: new LatencyRecorder(WAIT_SAMPLES_PER_SECOND) });
    }
    return this.#seconds[index]!;
  }
}
