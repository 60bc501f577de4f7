/**
 * When a token request is worth sending again, and after how long. The endpoint client runs the
 * loop (token-endpoint.ts); this module only decides, so that the rules live in one place and are
 * tested without a network.
 */
import { parseJsonBody } from './json-body.js';

/** Statuses that say "try again later": a timeout, a rate limit, or a server or gateway fault. */
export const RETRYABLE_STATUSES: readonly number[] = [408, 429, 500, 502, 503, 504];

/** Network failures worth a retry (got's error codes). `ETIMEDOUT` is got's per-attempt timeout. */
export const RETRYABLE_ERROR_CODES: readonly string[] = [
  'ETIMEDOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ENOTFOUND',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EADDRINUSE',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
];

/**
 * RFC 6749 §5.2 errors that no retry can fix: the server will give the same answer to the same
 * request, and repeating `invalid_client` only feeds a lockout.
 */
export const NON_RETRYABLE_OAUTH_ERRORS: ReadonlySet<string> = new Set([
  'invalid_client',
  'invalid_request',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_grant',
  'invalid_scope',
]);

/** A `Retry-After` longer than this is shortened to it: a worker should not sleep for an hour. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** The first backoff step; each later one doubles, up to {@link MAX_BACKOFF_MS}. */
export const BASE_BACKOFF_MS = 500;

/** The longest backoff between two attempts, before jitter. */
export const MAX_BACKOFF_MS = 10_000;

/** The shortest delay that {@link fitDelay} leaves: tries closer together than this only add load. */
export const MIN_FITTED_DELAY_MS = 100;

/**
 * Fits a backoff `delay` to the time left before `deadline`: while the deadline is ahead, the next
 * try lands no later than halfway to it (and no sooner than {@link MIN_FITTED_DELAY_MS}), so that
 * the time left always holds several tries however far the backoff has grown. A renewal in the
 * background uses the instant its current token stops being served as the deadline: an outage that
 * ends before then is met by a try, and no caller waits. Past the deadline, `delay` is kept.
 */
export function fitDelay(delay: number, now: number, deadline: number | undefined): number {
  if (deadline === undefined || now >= deadline) return delay;
  return Math.min(delay, Math.max(MIN_FITTED_DELAY_MS, (deadline - now) / 2));
}

/** Whether an error answer may succeed if asked again. */
export function isRetryableAnswer(status: number, oauthError: string | undefined): boolean {
  if (oauthError !== undefined && NON_RETRYABLE_OAUTH_ERRORS.has(oauthError)) return false;
  return RETRYABLE_STATUSES.includes(status) || oauthError === 'temporarily_unavailable';
}

/**
 * Exponential backoff with equal jitter: half of the step is fixed, half random, so that clients
 * that failed together do not retry together, and none retries at once.
 */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const step = Math.min(BASE_BACKOFF_MS * 2 ** Math.max(0, attempt - 1), MAX_BACKOFF_MS);
  return step / 2 + (random() * step) / 2;
}

/** Reads an RFC 6749 `error` field out of a raw body, if the body is JSON and has one. */
export function oauthErrorOf(body: unknown): string | undefined {
  if (typeof body !== 'string' || body.length === 0 || body.length > 1024 * 1024) return undefined;
  try {
    const json = parseJsonBody(body);
    const error = (json as { error?: unknown } | null)?.error;
    return typeof error === 'string' ? error : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Parses `Retry-After` (delta-seconds or an HTTP date) into milliseconds, capped at
 * {@link MAX_RETRY_AFTER_MS}. Undefined when absent or unreadable.
 */
export function parseRetryAfter(header: string | string[] | undefined, now: number): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  let ms: number;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) ms = Number(value) * 1000;
  else {
    const date = Date.parse(value);
    if (Number.isNaN(date)) return undefined;
    ms = Math.max(0, date - now);
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

/** What the policy reads of a failed attempt. */
export interface RetryInput {
  attemptCount: number;
  limit: number;
  status: number | undefined;
  errorCode: string | undefined;
  body: unknown;
  retryAfterMs: number | undefined;
  /** Fit the backoff to this instant (see {@link fitDelay}); a Retry-After is obeyed as it is. */
  retryBy?: number | undefined;
  /** The current instant, by the same clock as `retryBy`. */
  now?: number;
}

/** The delay before the next attempt, in ms, or 0 for "do not retry". */
export function retryDelay(input: RetryInput, random: () => number = Math.random): number {
  if (input.attemptCount > input.limit) return 0;
  const retryable =
    input.status === undefined
      ? input.errorCode !== undefined && RETRYABLE_ERROR_CODES.includes(input.errorCode)
      : isRetryableAnswer(input.status, oauthErrorOf(input.body));
  if (!retryable) return 0;
  if (input.retryAfterMs !== undefined && Number.isFinite(input.retryAfterMs)) {
    // 0 means "stop": wait at least a millisecond.
    return Math.max(1, Math.min(input.retryAfterMs, MAX_RETRY_AFTER_MS));
  }
  const delay = backoffDelay(input.attemptCount, random);
  return input.now === undefined ? delay : fitDelay(delay, input.now, input.retryBy);
}
