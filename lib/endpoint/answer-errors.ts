/**
 * Turns a failed token request into the endpoint client's typed errors: an error answer (any
 * status, or a 2xx with an RFC 6749 `error` field) into a {@link TokenEndpointError}, and a
 * transport failure into a {@link TokenRequestError}. Kept apart from the request loop, so that
 * what a failure means is read in one place, and no secret or got option reaches an error.
 */
import type { RequestError, Response } from 'got';
import { TokenEndpointError, TokenRequestError, redactUrlsIn, scrubSecrets, type FluxTokenError } from '../shared/errors.js';
import { isRetryableAnswer, parseRetryAfter } from './retry-policy.js';
import { parseJsonBody } from './json-body.js';

/** What reading a failure needs from the client: its secrets, its timeout, and the server's clock. */
export interface FailureContext {
  /** Values scrubbed from every field an error keeps. */
  secrets: string[];
  /** The per-attempt timeout, in ms, for the message of a timeout. */
  timeoutMs: number;
  /** The server's clock now, given an answer's `Date` header (a `Retry-After` date is meant against it). */
  serverNowOf: (date: string | string[] | undefined) => number;
}

/** The typed error of an attempt that got rejected. */
export function translateRequestError(error: RequestError, context: FailureContext): FluxTokenError {
  const cause = sanitizedCause(error);
  if (error.name === 'HTTPError' && error.response) {
    return errorAnswer(error.response.statusCode, error.response as Response<string>, context);
  }
  // A timeout first: one that fires while the body is still arriving (a slow-loris answer) has a
  // response too, and is still a timeout.
  if (error.name === 'TimeoutError' || error.code === 'ETIMEDOUT') {
    const what = error.response ? 'finish its answer' : 'answer';
    return new TokenRequestError('timeout', `The token endpoint did not ${what} within ${context.timeoutMs} ms`, { cause });
  }
  if (error.response) {
    return new TokenRequestError('network', `The token endpoint's answer was cut off (${error.code ?? error.name})`, { cause });
  }
  return new TokenRequestError('network', `The token endpoint could not be reached (${error.code ?? error.name})`, {
    cause,
  });
}

/**
 * The typed error of an error answer: its status, its RFC 6749 fields (scrubbed of secrets), whether
 * asking again may help, and its `Retry-After`. `parsed` is the body when the caller has read it.
 */
export function errorAnswer(
  status: number,
  response: Response<unknown>,
  context: FailureContext,
  parsed?: Record<string, unknown>,
): TokenEndpointError {
  let json = parsed;
  if (json === undefined && typeof response.body === 'string') {
    try {
      const value = parseJsonBody(response.body);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) json = value as Record<string, unknown>;
    } catch {
      // An HTML error page or a truncated body: the status alone describes it.
    }
  }
  const field = (name: string) => {
    const value = json?.[name];
    return typeof value === 'string' ? scrubSecrets(value, context.secrets) : undefined;
  };
  const error = field('error');
  const retryAfterMs = parseRetryAfter(response.headers?.['retry-after'], context.serverNowOf(response.headers?.date));
  return new TokenEndpointError({
    status,
    error,
    errorDescription: field('error_description'),
    errorUri: field('error_uri'),
    retryable: isRetryableAnswer(status, error),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/** The answer's media type, short, for a message: never the body. */
export function safeContentType(response: Response<unknown>): string {
  const type = response.headers['content-type'];
  return typeof type === 'string' ? type.split(';')[0]!.trim().slice(0, 60) || 'none' : 'none';
}

/**
 * got's errors hold the request options (with the form, so the secret) and the response. Keep
 * only what names the failure.
 */
function sanitizedCause(error: RequestError): Error {
  const copy = new Error(redactUrlsIn(error.message).slice(0, 300));
  copy.name = error.name;
  if (error.code) (copy as Error & { code?: string }).code = error.code;
  copy.stack = `${copy.name}: ${copy.message}`;
  return copy;
}
