/**
 * What the manager does after a failed renewal: while the token is still served, retry the
 * background flight later; otherwise cool the scope (or the whole client) down so that callers do
 * not each hit a failing endpoint again.
 */
import type { Cooldowns } from './cooldown.js';
import { FluxTokenError, TokenEndpointError } from '../shared/errors.js';
import type { TokenManagerEvents } from './manager-events.js';
import { scopeOf, type Flight, type ManagedRecord } from './manager-state.js';
import type { RefreshScheduler } from './refresh-scheduler.js';
import { fitDelay } from '../endpoint/retry-policy.js';

/** Failed background flights are retried after this delay, doubling, up to {@link MAX_BACKGROUND_RETRY_MS}. */
const BACKGROUND_RETRY_MS = 1_000;
const MAX_BACKGROUND_RETRY_MS = 60_000;

/** What a {@link FailurePolicy} needs from its manager. */
export interface FailurePolicyDeps {
  cooldowns: Cooldowns;
  scheduler: RefreshScheduler<ManagedRecord>;
  random: () => number;
  emit: <E extends keyof TokenManagerEvents>(event: E, payload: TokenManagerEvents[E]) => void;
}

/** Decides, after a failed renewal, when the scope is tried again. */
export class FailurePolicy {
  readonly #deps: FailurePolicyDeps;

  constructor(deps: FailurePolicyDeps) {
    this.#deps = deps;
  }

  /**
   * Records the failure of `flight` for `key` at `now`. `record` is the record of the token the
   * store holds for `key`, if any.
   */
  fail(key: string, thrown: unknown, flight: Flight, record: ManagedRecord | undefined, now: number): void {
    const { cooldowns, scheduler, random, emit } = this.#deps;
    // Anything that is not a FluxTokenError is a bug (ours or a store's): it reaches callers as
    // is, and is not reported as an event, but it is still paced like any other failure.
    const error = thrown instanceof FluxTokenError ? thrown : undefined;
    const stillServed = record !== undefined && !record.rejected && now < record.usableUntil;
    if (flight.background && stillServed) {
      // Keep serving the current token; try again later, never in a hot loop.
      record.failures++;
      const step = Math.min(BACKGROUND_RETRY_MS * 2 ** (record.failures - 1), MAX_BACKGROUND_RETRY_MS);
      // Spaced to fit the time left: never later than halfway to the margin, so that an outage
      // that ends before it is met by a try, and no caller waits.
      let delay = fitDelay(step / 2 + (step / 2) * random(), now, record.usableUntil);
      // A server that said when to come back (429 or 503 with Retry-After) is believed.
      if (error instanceof TokenEndpointError && error.retryAfterMs !== undefined) delay = Math.max(delay, error.retryAfterMs);
      const retryAt = Math.min(now + delay, record.usableUntil);
      // Out of the heap before its key changes: the hot path may have started this flight while
      // the record was still scheduled, and a key changed in place would break the heap's order.
      scheduler.cancel(record);
      record.dueAt = retryAt;
      if (retryAt < record.usableUntil) scheduler.schedule(record);
      // Bad credentials fail every scope alike: cool the client down, so that the other scopes in
      // their refresh window do not each try them again.
      if (error instanceof TokenEndpointError && error.error === 'invalid_client' && flight.credentialsSent) {
        cooldowns.fail(key, error, now, true, flight.startedAt);
      }
      if (error) emit('refreshFailed', { scope: scopeOf(key), grant: flight.grant, background: true, error, next: 'retry', retryAt });
    } else if (error) {
      cooldowns.fail(key, error, now, flight.credentialsSent, flight.startedAt);
      emit('refreshFailed', { scope: scopeOf(key), grant: flight.grant, background: flight.background, error, next: 'give-up' });
    }
  }
}
