/**
 * Every error this library throws is a {@link FluxTokenError}, with a stable `code` that callers
 * can switch on. Messages are for humans and may change; codes will not.
 *
 * Secrets never enter an error: not the client secret, not a refresh token, not an access token,
 * not a request body. A `cause` is always a sanitized copy (name, code and message of the
 * underlying failure), never the HTTP client's own error object, which holds the request options
 * and so the form with the secret.
 */

/** What stands in a message for text that was taken out because it may be a secret. */
export const REDACTED = '[redacted]';

/**
 * A URL as a message may show it: scheme, host and path, with the userinfo, query string and
 * fragment replaced by {@link REDACTED}, since that is where credentials and API keys go
 * (`https://user:pw@host`, `?client_secret=...`). A string that does not parse as a URL with a host
 * is never shown, not even in part: where its secret starts cannot be known (a password may hold a
 * `/`, a host a space), so it is described by its shape instead (see {@link describeUnparsedUrl}).
 */
export function redactUrl(value: string | URL): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : value;
  } catch {
    url = undefined;
  }
  if (url !== undefined && url.host !== '') {
    const userinfo = url.username || url.password ? `${REDACTED}@` : '';
    const search = url.search ? `?${REDACTED}` : '';
    const hash = url.hash ? `#${REDACTED}` : '';
    return `${url.protocol}//${userinfo}${url.host}${url.pathname}${search}${hash}`;
  }
  return `[${REDACTED}: ${describeUnparsedUrl(String(value))}]`;
}

/**
 * How a message speaks of a string that should have been a URL and did not parse: its length and,
 * when it starts like one (`https://`), its scheme. Nothing else of it, since any other part may be
 * a secret. The scheme is shown only before `//`, so that `user:password@host` shows no `user`.
 */
export function describeUnparsedUrl(text: string): string {
  const scheme = /^([a-z][a-z0-9+.-]{0,15}:)\/\//i.exec(text)?.[1];
  return `a string of ${text.length} characters that does not parse as a URL${scheme ? ` (scheme \`${scheme.toLowerCase()}\`)` : ''}`;
}

/**
 * Every URL in free text (`scheme://...`), passed through {@link redactUrl}: for messages that
 * come from elsewhere (another library's error, a server) and may quote a URL.
 */
export function redactUrlsIn(text: string): string {
  return replaceUrlsIn(text, redactUrl);
}

/**
 * Each URL in `text` replaced by `replace(url)`. A URL is what the pattern
 * `\b[a-z][a-z0-9+.-]*:\/\/[^\s"'`<>()]+` (case-insensitive) would match, but found by a scan that
 * visits each character a bounded number of times: that pattern backtracks, and takes time
 * quadratic in the length of a run of scheme characters (`a-a-a-...`), which a server controls
 * through its HTTP reason phrase.
 */
export function replaceUrlsIn(text: string, replace: (url: string) => string): string {
  let out = '';
  let copied = 0;
  let from = 0;
  for (;;) {
    const separator = text.indexOf('://', from);
    if (separator === -1) break;
    // The scheme is the run of scheme characters before `://`; the URL starts at its first letter
    // that begins a word. The run cannot reach back past `from`: a `:` or a match ends there.
    let runStart = separator;
    while (runStart > from && isSchemeChar(text.charCodeAt(runStart - 1))) runStart -= 1;
    let start = runStart;
    while (start < separator && !(isLetter(text.charCodeAt(start)) && (start === 0 || !isWordChar(text.charCodeAt(start - 1))))) start += 1;
    let end = separator + 3;
    while (end < text.length && !URL_STOP.test(text[end]!)) end += 1;
    if (start === separator || end === separator + 3) {
      from = separator + 1;
      continue;
    }
    out += text.slice(copied, start) + replace(text.slice(start, end));
    copied = end;
    from = end;
  }
  return out + text.slice(copied);
}

/** A character that ends a URL in free text: white space, a quote, an angle bracket or a parenthesis. */
const URL_STOP = /[\s"'`<>()]/;

function isLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** `\w` without the `u` flag: ASCII letters, digits and `_`. */
function isWordChar(c: number): boolean {
  return isLetter(c) || isDigit(c) || c === 0x5f;
}

/** A letter, a digit, `+`, `-` or `.` (RFC 3986 §3.1). */
function isSchemeChar(c: number): boolean {
  return isLetter(c) || isDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e;
}

/**
 * Server text goes into error messages, so a server that echoes the request (some do, in
 * `error_description`) must not put a secret there: cut it out, and cap the length. An echo of the
 * raw body carries the secret form-encoded (a refresh token's `+/=` as `%2B%2F%3D`), so cut that
 * form out too. Secrets go before the cap, so that a cut cannot leave half a secret behind.
 */
export function scrubSecrets(text: string, secrets: readonly string[], maxLength = 500): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    const forms = new Set([secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)]);
    for (const form of forms) out = out.split(form).join(REDACTED);
  }
  return out.length > maxLength ? `${out.slice(0, maxLength - 3)}...` : out;
}

/** The stable codes, one per error class (a few classes carry a finer `reason` as well). */
export type FluxErrorCode =
  | 'FLUX_CONFIG_INVALID'
  | 'FLUX_INVALID_ARGUMENT'
  | 'FLUX_TOKEN_ENDPOINT'
  | 'FLUX_TOKEN_REQUEST'
  | 'FLUX_INVALID_TOKEN_RESPONSE'
  | 'FLUX_TOKEN_DECODE'
  | 'FLUX_ABORTED'
  | 'FLUX_MANAGER_CLOSED'
  | 'FLUX_FOREIGN_ORIGIN'
  | 'FLUX_MISSING_SCOPE';

/** Base class of every error thrown by flux-token-manager. */
export class FluxTokenError extends Error {
  /** A stable, machine-readable identifier of the kind of failure. */
  readonly code: FluxErrorCode;

  constructor(code: FluxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }

  /**
   * A JSON form that is safe to log: the name, code, message and the error's own public fields.
   * Without it, `JSON.stringify(err)` gives `{}` and loggers fall back to ad-hoc walks of the object.
   */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, code: this.code, message: this.message };
    for (const [key, value] of Object.entries(this)) {
      if (key !== 'cause') out[key] = value;
    }
    if (this.cause !== undefined) out.cause = describeCause(this.cause);
    return out;
  }
}

function describeCause(cause: unknown): unknown {
  if (cause instanceof FluxTokenError) return cause.toJSON();
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return { name: cause.name, message: cause.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return String(cause);
}

/**
 * An option given to a constructor is missing, of the wrong type, or out of range. Thrown at
 * construction, never later, so a misconfigured worker fails at start-up rather than under load.
 */
export class ConfigurationError extends FluxTokenError {
  /** The name of the offending option, e.g. `tokenUrl`. */
  readonly option: string;

  constructor(option: string, message: string) {
    super('FLUX_CONFIG_INVALID', message);
    this.option = option;
  }
}

/** A method was called with an argument it cannot accept, such as an empty scope string. */
export class InvalidArgumentError extends FluxTokenError {
  /** The name of the offending argument, e.g. `scope`. */
  readonly argument: string;

  constructor(argument: string, message: string) {
    super('FLUX_INVALID_ARGUMENT', message);
    this.argument = argument;
  }
}

/** The RFC 6749 §5.2 error fields, as the token endpoint sent them (when it sent any). */
export interface OAuthErrorFields {
  /** `error`, e.g. `invalid_grant`. */
  error?: string;
  /** `error_description`: human-readable text from the server. */
  errorDescription?: string;
  /** `error_uri`: a page about the error. */
  errorUri?: string;
}

/**
 * The token endpoint answered with an error: a non-2xx status, or a 200 whose body holds an
 * RFC 6749 `error`. `retryable` says whether asking again later may succeed (5xx, 408, 429), as
 * opposed to a request the server will always refuse (`invalid_client`, `invalid_grant`, ...).
 */
export class TokenEndpointError extends FluxTokenError {
  /** The HTTP status of the final attempt. */
  readonly status: number;
  /** RFC 6749 `error`, when the body carried one. */
  readonly error: string | undefined;
  /** RFC 6749 `error_description`, when the body carried one (secrets scrubbed). */
  readonly errorDescription: string | undefined;
  /** RFC 6749 `error_uri`, when the body carried one. */
  readonly errorUri: string | undefined;
  /** Whether the same request may succeed later. */
  readonly retryable: boolean;
  /** The delay the server asked for with `Retry-After`, in milliseconds, when it gave one. */
  readonly retryAfterMs: number | undefined;

  constructor(
    details: OAuthErrorFields & { status: number; retryable: boolean; retryAfterMs?: number },
    options?: { cause?: unknown },
  ) {
    const what = details.error ?? `HTTP ${details.status}`;
    const description = details.errorDescription ? `: ${details.errorDescription}` : '';
    super('FLUX_TOKEN_ENDPOINT', `Token endpoint answered ${details.status} (${what})${description}`, options);
    this.status = details.status;
    this.error = details.error;
    this.errorDescription = details.errorDescription;
    this.errorUri = details.errorUri;
    this.retryable = details.retryable;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/**
 * The token endpoint could not be reached or did not answer in time, after every retry.
 * Always retryable: nothing says the server refused.
 */
export class TokenRequestError extends FluxTokenError {
  /** `timeout` when an attempt ran past `timeout`, otherwise `network`. */
  readonly reason: 'timeout' | 'network';
  /** Always true: a later attempt may succeed. */
  readonly retryable = true;

  constructor(reason: 'timeout' | 'network', message: string, options?: { cause?: unknown }) {
    super('FLUX_TOKEN_REQUEST', message, options);
    this.reason = reason;
  }
}

/** Why a success answer from the token endpoint was rejected. */
export type InvalidTokenResponseReason =
  | 'not_json'
  | 'body_too_large'
  | 'not_an_object'
  | 'invalid_access_token'
  | 'invalid_token_type'
  | 'invalid_expires_in'
  | 'invalid_refresh_token'
  | 'no_expiry'
  | 'scope_mismatch'
  | 'unreadable_jws'
  | 'unbound_token';

/**
 * A 2xx answer that is not a usable token: not JSON, too large, or a field missing or malformed.
 * `reason` names the check that failed. Retryable, because a proxy error page or a truncated body
 * is usually transient.
 */
export class InvalidTokenResponseError extends FluxTokenError {
  /** Which check failed. */
  readonly reason: InvalidTokenResponseReason;
  /** The HTTP status of the answer. */
  readonly status: number;
  /** Always true: a malformed answer is treated as transient. */
  readonly retryable = true;

  constructor(reason: InvalidTokenResponseReason, status: number, message: string, options?: { cause?: unknown }) {
    super('FLUX_INVALID_TOKEN_RESPONSE', `Invalid token response (${reason}): ${message}`, options);
    this.reason = reason;
    this.status = status;
  }
}

/** A string that should be a Flux JWS access token could not be decoded. */
export class TokenDecodeError extends FluxTokenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FLUX_TOKEN_DECODE', message, options);
  }
}

/**
 * The caller's `AbortSignal` fired. Named `AbortError`, like the DOM's, so that generic code that
 * checks `err.name === 'AbortError'` keeps working; `cause` is the signal's reason.
 */
export class AbortError extends FluxTokenError {
  constructor(reason?: unknown) {
    super('FLUX_ABORTED', 'The operation was aborted', reason === undefined ? undefined : { cause: reason });
    this.name = 'AbortError';
  }
}

/** The manager was closed: pending and later calls fail with this. */
export class TokenManagerClosedError extends FluxTokenError {
  constructor() {
    super('FLUX_MANAGER_CLOSED', 'The TokenManager is closed');
  }
}

/**
 * An HTTP adapter (`gotAuth`, `authFetch`) was asked to send a request to an origin outside its
 * allow-list while `onForeignOrigin` is `'throw'`. Thrown before anything is sent, so that a
 * mistyped base URL or a URL built from untrusted input fails loudly instead of quietly going out
 * without a token. The message names the origin only: a path or query string may hold secrets.
 */
export class ForeignOriginError extends FluxTokenError {
  /** The origin the request was for, e.g. `https://example.com`. */
  readonly origin: string;
  /** The origins that tokens are sent to. */
  readonly allowedOrigins: readonly string[];

  constructor(origin: string, allowedOrigins: readonly string[]) {
    super(
      'FLUX_FOREIGN_ORIGIN',
      `Refusing to send a request to ${origin}: it is not one of the allowed origins (${allowedOrigins.join(', ')}) and \`onForeignOrigin\` is 'throw'`,
    );
    this.origin = origin;
    this.allowedOrigins = allowedOrigins;
  }
}

/**
 * An HTTP adapter (`gotAuth`, `authFetch`, `axiosAuth`, `undiciAuth`) was asked to send a request
 * to an allowed origin without saying which user it is for: no scope on the request, no `scope`
 * option, or a `scope` function that returned `undefined`. Thrown before anything is sent. The
 * client-wide token is valid for every user, so it is sent only when asked for explicitly
 * (`scope: null`); a typo in a request's scope must not quietly act for every user.
 */
export class MissingScopeError extends FluxTokenError {
  /** The adapter that refused the request, e.g. `gotAuth`. */
  readonly adapter: string;

  constructor(adapter: string) {
    super(
      'FLUX_MISSING_SCOPE',
      `Refusing to send a request without a user: ${adapter} found no scope for it. Give the request a user id as its scope, or \`scope: null\` for the client-wide token`,
    );
    this.adapter = adapter;
  }
}
