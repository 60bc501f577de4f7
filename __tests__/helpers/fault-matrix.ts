/**
 * The fault matrix of the reliability suite: every token-endpoint fault of the emulator, played
 * against a live TokenManager over real loopback HTTP, in two situations:
 *
 * - **cold**: no token cached. The caller gets the typed error (its `code`, and `reason` or
 *   `status`), after exactly `retry + 1` requests for a retryable failure and 1 otherwise; later
 *   callers get the same error without a request until the cool-down ends; then the scope recovers.
 * - **warm**: a token cached and in its refresh window. It keeps being served, at once, while the
 *   background renewal fails; the next attempt waits for its scheduled time; then it recovers, with
 *   the refresh token the faults never spent.
 *
 * The manager's clock and timers are a {@link ManualClock}, so cool-downs and retry schedules are
 * checked to the millisecond without sleeping; the HTTP is real, and so are got's timeouts and
 * `Retry-After` waits. Every await is bounded. A {@link Capture} records every error, token, event
 * payload and printed form of the manager, for the leak scan.
 */
import { expect } from '@jest/globals';
import { inspect } from 'node:util';
import type { Emulator, TokenFault } from '../../lib/emulator/index.js';
import {
  InvalidTokenResponseError,
  TokenEndpointError,
  TokenManager,
  TokenRequestError,
  type FluxErrorCode,
  type Token,
  type TokenManagerEvents,
  type TokenManagerOptions,
} from '../../lib/index.js';
import { ManualClock } from '../fixtures/manual-clock.js';
import { rejectionOf, within } from './reliability.js';

/** Endpoint retries after the first attempt: the bound on requests per attempt is RETRY + 1. */
export const RETRY = 1;
/** Per-attempt timeout for the `hang` fault: small, so the matrix stays fast. */
export const HANG_TIMEOUT_MS = 250;
/** Per-attempt timeout for every other fault: large, so a loaded machine never turns a fault into a timeout. */
export const TIMEOUT_MS = 5_000;
/** The manager's first cool-down after a failed foreground request. */
export const COOLDOWN_MS = 100;
/** The emulator's `retryAfterSeconds` for the matrix: the `429` fault says `Retry-After: 1`. */
export const RETRY_AFTER_SECONDS = 1;
/** The emulator's token lifetime in the matrix, in seconds. */
export const EXPIRES_IN = 3600;
/** The manager's default refresh window (5 min, under 25% of the lifetime above). */
const REFRESH_WINDOW_MS = 5 * 60_000;
/** The bound on any one step of a case, in real time. */
const STEP_MS = 10_000;

/** One fault mode and what a client must make of it. */
export interface FaultCase {
  mode: Exclude<TokenFault, 'none'>;
  /** The error class a caller gets. */
  type: typeof TokenEndpointError | typeof TokenRequestError | typeof InvalidTokenResponseError;
  /** Its stable code, and the fields that say which failure it was. */
  code: FluxErrorCode;
  fields: Record<string, unknown>;
  /** Whether the endpoint retries it (a transport failure or a retryable status), or not (a bad 200). */
  retried: boolean;
}

const invalid = (mode: FaultCase['mode'], reason: string): FaultCase => ({
  mode,
  type: InvalidTokenResponseError,
  code: 'FLUX_INVALID_TOKEN_RESPONSE',
  fields: { reason, status: 200, retryable: true },
  retried: false,
});

/** Every fault of the emulator's token endpoint (a test checks that none is missing). */
export const FAULT_CASES: readonly FaultCase[] = [
  {
    mode: '500',
    type: TokenEndpointError,
    code: 'FLUX_TOKEN_ENDPOINT',
    fields: { status: 500, error: 'server_error', retryable: true },
    retried: true,
  },
  {
    mode: '429',
    type: TokenEndpointError,
    code: 'FLUX_TOKEN_ENDPOINT',
    fields: { status: 429, error: 'too_many_requests', retryable: true, retryAfterMs: RETRY_AFTER_SECONDS * 1000 },
    retried: true,
  },
  { mode: 'hang', type: TokenRequestError, code: 'FLUX_TOKEN_REQUEST', fields: { reason: 'timeout', retryable: true }, retried: true },
  { mode: 'reset', type: TokenRequestError, code: 'FLUX_TOKEN_REQUEST', fields: { reason: 'network', retryable: true }, retried: true },
  { mode: 'truncated', type: TokenRequestError, code: 'FLUX_TOKEN_REQUEST', fields: { reason: 'network', retryable: true }, retried: true },
  invalid('bad-json', 'not_json'),
  invalid('html', 'not_json'),
  invalid('expires-in-zero', 'invalid_expires_in'),
  invalid('expires-in-negative', 'invalid_expires_in'),
  invalid('expires-in-nan', 'invalid_expires_in'),
  invalid('expires-in-huge', 'invalid_expires_in'),
  invalid('no-access-token', 'invalid_access_token'),
  invalid('token-type-mac', 'invalid_token_type'),
];

/** Requests one manager attempt makes under `c`. */
export function attemptsOf(c: FaultCase): number {
  return c.retried ? RETRY + 1 : 1;
}

/** Everything a run produced that a logger or a developer could print, for the leak scan. */
export class Capture {
  /** Every error thrown to a caller or carried by an event. */
  readonly errors: unknown[] = [];
  /** Event payloads, stats and tokens: printed with util.inspect and JSON.stringify. */
  readonly values: unknown[] = [];
  /** Forms already printed (of the manager). */
  readonly texts: string[] = [];

  error(error: unknown): void {
    this.errors.push(error);
  }

  token(token: Token): void {
    this.values.push(token);
  }

  /** Records every payload of every event of `manager`. */
  watch(manager: TokenManager): void {
    const events: (keyof TokenManagerEvents)[] = ['token', 'refreshFailed', 'evicted', 'store'];
    for (const name of events) {
      manager.on(name, (payload: unknown) => {
        this.values.push({ event: name, payload });
        const error = (payload as { error?: unknown }).error;
        if (error !== undefined) this.errors.push(error);
      });
    }
  }

  /** The manager's stats and every printed form of it. */
  snapshot(manager: TokenManager): void {
    this.values.push(manager.stats());
    this.texts.push(
      inspect(manager, { depth: Infinity }),
      inspect(manager, { depth: Infinity, showHidden: true }),
      inspect(manager, { depth: Infinity, customInspect: false }),
      JSON.stringify(manager),
      String(manager),
    );
  }
}

/** Where the matrix runs: the emulator (for faults and counters) and the URL the manager uses. */
export interface MatrixTarget {
  emulator: Emulator;
  /** The emulator's token URL, or a proxy's in front of it. */
  tokenUrl: string;
  /** The client secret the emulator was started with. */
  clientSecret: string;
  /** More manager options. */
  options?: Partial<TokenManagerOptions>;
  /** Run on each new manager before its case starts, e.g. to make its refreshes carry the client credentials. */
  prepare?: (manager: TokenManager) => Promise<void>;
  capture?: Capture;
}

async function managerFor(target: MatrixTarget, c: FaultCase, clock: ManualClock): Promise<TokenManager> {
  const manager = new TokenManager({
    clientId: target.emulator.clientId,
    clientSecret: target.clientSecret,
    tokenUrl: target.tokenUrl,
    request: { retry: RETRY, timeout: c.mode === 'hang' ? HANG_TIMEOUT_MS : TIMEOUT_MS },
    clock: { now: clock.now, timers: clock.timers, random: () => 0 },
    cooldown: { base: COOLDOWN_MS, max: 10_000 },
    ...target.options,
  });
  target.capture?.watch(manager);
  await target.prepare?.(manager);
  return manager;
}

/** Checks that `error` is the typed error of `c`. */
export function expectTypedError(error: unknown, c: FaultCase): void {
  expect(error).toBeInstanceOf(c.type);
  expect(error).toMatchObject({ code: c.code, ...c.fields });
}

function recorded<E extends keyof TokenManagerEvents>(manager: TokenManager, event: E): TokenManagerEvents[E][] {
  const seen: TokenManagerEvents[E][] = [];
  manager.on(event, (payload) => seen.push(payload));
  return seen;
}

function next<E extends keyof TokenManagerEvents>(manager: TokenManager, event: E): Promise<TokenManagerEvents[E]> {
  return within(STEP_MS, new Promise((resolve) => manager.once(event, resolve)), `the next '${event}' event`);
}

async function closeAfter(target: MatrixTarget, manager: TokenManager): Promise<void> {
  target.emulator.setFault('none');
  target.capture?.snapshot(manager);
  await within(STEP_MS, manager.close(), 'close()');
  target.capture?.snapshot(manager);
}

/** A cold scope under fault `c`: the typed error, bounded requests, the cool-down, recovery. */
export async function coldFault(target: MatrixTarget, c: FaultCase): Promise<void> {
  const { emulator, capture } = target;
  const clock = new ManualClock();
  const manager = await managerFor(target, c, clock);
  // What `prepare` left in the counters, if anything.
  const before = manager.stats();
  const failures = recorded(manager, 'refreshFailed');
  const scope = `cold-${c.mode}`;
  const calls = () => emulator.stats().tokenCalls.total;
  try {
    emulator.resetStats();
    emulator.setFault(c.mode);
    const started = performance.now();
    const error = await rejectionOf(manager.getToken(scope), STEP_MS, `getToken under '${c.mode}'`);
    const elapsed = performance.now() - started;
    capture?.error(error);
    expectTypedError(error, c);
    // No hot loop: retry + 1 requests for a retryable failure, one for a malformed success.
    expect(calls()).toBe(attemptsOf(c));
    if (c.mode === '429') {
      // got waited out `Retry-After: 1` between the two attempts (timers never fire early).
      expect(elapsed).toBeGreaterThanOrEqual(RETRY_AFTER_SECONDS * 1000 - 2);
    }
    if (c.mode === 'hang') expect(elapsed).toBeGreaterThanOrEqual(attemptsOf(c) * HANG_TIMEOUT_MS - 2);
    expect(failures).toEqual([{ scope, grant: 'client_credentials', background: false, error, next: 'give-up' }]);

    if (c.mode === '429') {
      // The server said when to come back (Retry-After): until then, later callers get the same
      // error and no request goes out.
      expect(await rejectionOf(manager.getToken(scope))).toBe(error);
      emulator.setFault('none');
      clock.advance(RETRY_AFTER_SECONDS * 1000 - 1);
      expect(await rejectionOf(manager.getToken(scope))).toBe(error);
      expect(calls()).toBe(attemptsOf(c));
      expect(manager.stats()).toMatchObject({ coolingDown: 1, inFlight: 0, failures: before.failures + 1 });
      clock.advance(1);
    } else {
      // A cool-down of our own guess is half-open: once the endpoint is back, a caller inside it
      // gets a token, through one probe request.
      emulator.setFault('none');
      clock.advance(COOLDOWN_MS - 1);
      expect(manager.stats()).toMatchObject({ coolingDown: 1, inFlight: 0, failures: before.failures + 1 });
    }
    const token = await within(STEP_MS, manager.getToken(scope), 'getToken after the cool-down');
    capture?.token(token);
    expect(token).toMatchObject({ scope, tokenType: 'bearer', expiresIn: EXPIRES_IN });
    expect(calls()).toBe(attemptsOf(c) + 1);
    expect(manager.stats()).toMatchObject({ coolingDown: 0, inFlight: 0, cached: before.cached + 1 });
  } finally {
    await closeAfter(target, manager);
  }
}

/**
 * A cached token in its refresh window under fault `c`: served at once while the background
 * renewal fails, no request until the scheduled retry, then renewed with the unspent refresh token.
 */
export async function warmFault(target: MatrixTarget, c: FaultCase): Promise<void> {
  const { emulator, capture } = target;
  const clock = new ManualClock();
  const manager = await managerFor(target, c, clock);
  // What `prepare` left in the counters, if anything.
  const before = manager.stats();
  const scope = `warm-${c.mode}`;
  const calls = () => emulator.stats().tokenCalls;
  try {
    emulator.setFault('none');
    const first = await within(STEP_MS, manager.getToken(scope), 'the first getToken');
    capture?.token(first);
    clock.advanceTo(first.expiresAt - REFRESH_WINDOW_MS);
    emulator.resetStats();
    emulator.setFault(c.mode);

    const served = () => within(STEP_MS, manager.getToken(scope), 'a cache hit');
    const failure = next(manager, 'refreshFailed');
    // In the window: served from the cache, at once, and one background renewal starts.
    expect(await served()).toBe(first);
    const event = await failure;
    capture?.error(event.error);
    expect(event).toMatchObject({ scope, grant: 'refresh_token', background: true, next: 'retry' });
    expectTypedError(event.error, c);
    expect(calls()).toMatchObject({ total: attemptsOf(c), byGrant: { client_credentials: 0, refresh_token: attemptsOf(c) } });

    // The still-valid token keeps being served, and nothing is sent until the retry is due.
    const retryAt = event.retryAt!;
    expect(retryAt).toBeGreaterThan(clock.now());
    expect(retryAt).toBeLessThan(first.expiresAt);
    for (let i = 0; i < 20; i++) expect(await served()).toBe(first);
    clock.advanceTo(retryAt - 1);
    expect(await served()).toBe(first);
    expect(calls().total).toBe(attemptsOf(c));
    expect(manager.stats()).toMatchObject({ inFlight: 0, failures: before.failures + 1, backgroundRefreshes: before.backgroundRefreshes + 1 });

    // The endpoint recovers: the retry renews with the refresh token no fault spent.
    emulator.setFault('none');
    const renewed = next(manager, 'token');
    clock.advanceTo(retryAt);
    expect(await renewed).toMatchObject({ scope, grant: 'refresh_token', background: true });
    const second = await served();
    capture?.token(second);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(calls()).toMatchObject({ total: attemptsOf(c) + 1, invalidGrant: 0 });
  } finally {
    await closeAfter(target, manager);
  }
}
