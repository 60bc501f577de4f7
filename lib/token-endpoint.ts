/**
 * The bottom layer: one class that speaks to Flux's `POST /auth/oauth/token`, and nothing else.
 * It sends a grant, reads the answer strictly, and turns every failure into a typed error. It keeps
 * no state between calls: caching, single flight and refresh timing are the manager's job.
 */
import defaultGot, { type Got, type OptionsOfTextResponseBody, type RequestError, type Response } from 'got';
import {
  AbortError,
  InvalidArgumentError,
  InvalidTokenResponseError,
  TokenEndpointError,
  TokenRequestError,
  redactUrlsIn,
  scrubSecrets,
  type FluxTokenError,
} from './errors.js';
import { RETRYABLE_STATUSES, isRetryableAnswer, parseRetryAfter, retryDelay } from './retry-policy.js';
import { parseTokenResponse, MAX_EXPIRES_IN_SECONDS, type Token } from './token.js';
import { requireTokenParams } from './token-params.js';
import { requireSecureUrl } from './url.js';
import {
  invalidRequestOptions,
  invalidScope,
  rejectUnknownOptions,
  requireBoolean,
  requireFunction,
  requireNumber,
  requireOneOf,
  requireOptionsObject,
  requireString,
  orDefault,
} from './validate.js';
import { USER_AGENT } from './version.js';

/** Flux's documented token endpoint. */
export const DEFAULT_TOKEN_URL = 'https://api.test.tryflux.com/auth/oauth/token';
/** Per-attempt timeout, in ms. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Retries after the first attempt. */
export const DEFAULT_RETRY = 2;
/** Answers larger than this are refused rather than buffered: a token answer is under 2 KiB. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/** Options of {@link TokenEndpoint}. */
export interface TokenEndpointOptions {
  /** The OAuth2 client id. */
  clientId: string;
  /** The OAuth2 client secret. Never logged, never put in an error. */
  clientSecret: string;
  /**
   * The token endpoint. Must be `https:`, or `http:` on a loopback host (the emulator, a test).
   * @default 'https://api.test.tryflux.com/auth/oauth/token'
   * @example tokenUrl: 'http://127.0.0.1:4010/auth/oauth/token'
   */
  tokenUrl?: string | URL;
  /**
   * Timeout of each attempt, in ms. A hung endpoint costs at most `timeout × (retry + 1)` plus backoff.
   * @default 10000
   */
  timeout?: number;
  /**
   * How many times a failed attempt is retried: network errors, timeouts, 408, 429 and 5xx, with
   * exponential backoff and jitter, honouring `Retry-After` up to 60 s. OAuth errors such as
   * `invalid_grant` are never retried.
   * @default 2
   */
  retry?: number;
  /**
   * Also send `client_id` and `client_secret` with the refresh grant. Flux's documented refresh call
   * sends neither, so this is off; turn it on for a server that requires client authentication there.
   * @default false
   */
  refreshWithClientCredentials?: boolean;
  /**
   * How the client authenticates when it sends its credentials: `client_secret_post` puts
   * `client_id` and `client_secret` in the form body (as Flux documents it);
   * `client_secret_basic` sends them in an `Authorization: Basic` header (RFC 6749 §2.3.1, each
   * form-urlencoded, then base64), which some servers require. The credentials go in exactly one
   * of the two places, never both.
   * @default 'client_secret_post'
   */
  clientAuth?: ClientAuthMethod;
  /**
   * Extra form parameters sent with both grants, e.g. `audience` or `resource` for servers that
   * want them. The names the library owns (`grant_type`, `client_id`, `client_secret`, `scope`,
   * `refresh_token`) are refused.
   * @example tokenParams: { audience: 'https://api.example.com' }
   */
  tokenParams?: Record<string, string>;
  /**
   * The lifetime, in seconds, of a token whose answer has no `expires_in` (RFC 6749 only
   * recommends it) and whose access token has no readable `exp` claim, e.g. an opaque token.
   * Without it, such an answer fails with reason `no_expiry`.
   * @example defaultExpiresIn: 3600
   */
  defaultExpiresIn?: number;
  /**
   * The got instance to send with, e.g. one with a proxy agent. It must not set `prefixUrl`. The
   * endpoint sets its own method, body, response type, timeout and retry options per request.
   * @default the `got` default export
   */
  got?: Got;
  /**
   * The clock, in ms since the epoch. Injected so that tests can drive time.
   * @default Date.now
   */
  now?: () => number;
}

/** How the client sends its credentials; see {@link TokenEndpointOptions.clientAuth}. */
export type ClientAuthMethod = 'client_secret_post' | 'client_secret_basic';

/** Options of one token request. */
export interface RequestOptions {
  /** Aborts the request at once, retries included, with an {@link AbortError}. */
  signal?: AbortSignal;
  /**
   * Called with the HTTP status of the answer that settled the request (after the client's own
   * retries), before it is read: metrics and traces record it, also for a successful answer.
   */
  onAnswer?: (status: number) => void;
  /**
   * An instant (ms, by this client's `now`) before which the request should have succeeded. While
   * it is ahead, each backoff between attempts is cut to at most half the time left (not below
   * 100 ms), so that several attempts fit before it. The manager sets it on a renewal in the
   * background: the instant its current token stops being served. A `Retry-After` is still obeyed.
   */
  retryBy?: number;
}

/** Options of {@link TokenEndpoint.clientCredentials}. */
export interface ClientCredentialsOptions extends RequestOptions {
  /** Restrict the token to this user id (`scope=<user id>`). Omit it for a client-wide token. */
  scope?: string;
}

/** Options of {@link TokenEndpoint.refresh}. */
export interface RefreshOptions extends RequestOptions {
  /** The refresh token to spend. Sent intact, `+`, `/` and `=` included. */
  refreshToken: string;
  /**
   * Send the client credentials with this refresh request, whatever `refreshWithClientCredentials`
   * says. The manager sets it once it has learned that the server requires them.
   */
  authenticate?: boolean;
  /**
   * The user id of the token being renewed, or `null` for the client-wide token. Not sent (the
   * refresh grant keeps the scope it was issued with); it labels the returned {@link Token}, and
   * the answer must be bound to it (else `scope_mismatch`). Omitted, the answer is not checked
   * against a scope: the caller did not say which it expects.
   */
  scope?: string | null;
}

/** The option names of {@link TokenEndpointOptions}; the manager passes exactly these on. */
export const ENDPOINT_OPTION_KEYS: readonly string[] = [
  'clientId',
  'clientSecret',
  'tokenUrl',
  'timeout',
  'retry',
  'refreshWithClientCredentials',
  'clientAuth',
  'tokenParams',
  'defaultExpiresIn',
  'got',
  'now',
];

/**
 * A strict client for the Flux token endpoint.
 *
 * @example
 * const endpoint = new TokenEndpoint({ clientId, clientSecret });
 * const token = await endpoint.clientCredentials({ scope: 'user-42' });
 * const renewed = await endpoint.refresh({ refreshToken: token.refreshToken!, scope: 'user-42' });
 */
export class TokenEndpoint {
  /** The token endpoint's URL, validated. */
  readonly tokenUrl: URL;
  /** Per-attempt timeout, in ms. */
  readonly timeout: number;
  /** Retries after the first attempt. */
  readonly retry: number;
  /** Whether the refresh grant carries the client credentials. */
  readonly refreshWithClientCredentials: boolean;
  /** The OAuth2 client id (not a secret). */
  readonly clientId: string;
  /** How the client credentials are sent. */
  readonly clientAuth: ClientAuthMethod;
  /** The lifetime given to a token whose answer and token say nothing about it, in seconds. */
  readonly defaultExpiresIn: number | undefined;

  // Private fields are invisible to util.inspect and JSON.stringify: the secret stays here.
  readonly #clientSecret: string;
  readonly #got: Got;
  readonly #now: () => number;
  readonly #tokenParams: Readonly<Record<string, string>>;
  /** The `Authorization` header value of `client_secret_basic`; a secret too. */
  readonly #basic: string;

  constructor(options: TokenEndpointOptions) {
    const o = requireOptionsObject('TokenEndpoint options', options);
    rejectUnknownOptions('TokenEndpoint options', o, ENDPOINT_OPTION_KEYS);
    this.clientId = requireString('clientId', o.clientId);
    this.#clientSecret = requireString('clientSecret', o.clientSecret, true);
    this.tokenUrl = requireSecureUrl('tokenUrl', orDefault(o.tokenUrl, DEFAULT_TOKEN_URL));
    this.timeout = requireNumber('timeout', orDefault(o.timeout, DEFAULT_TIMEOUT_MS), { min: 1, max: 10 * 60_000 });
    this.retry = requireNumber('retry', orDefault(o.retry, DEFAULT_RETRY), { min: 0, max: 10, integer: true });
    this.refreshWithClientCredentials = requireBoolean(
      'refreshWithClientCredentials',
      orDefault(o.refreshWithClientCredentials, false),
    );
    this.clientAuth = requireOneOf<ClientAuthMethod>('clientAuth', orDefault(o.clientAuth, 'client_secret_post'), [
      'client_secret_post',
      'client_secret_basic',
    ]);
    this.#tokenParams = requireTokenParams(o.tokenParams);
    this.defaultExpiresIn =
      o.defaultExpiresIn === undefined
        ? undefined
        : requireNumber('defaultExpiresIn', o.defaultExpiresIn, { min: Number.MIN_VALUE, max: MAX_EXPIRES_IN_SECONDS });
    const formEncode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
    this.#basic = `Basic ${Buffer.from(`${formEncode(this.clientId)}:${formEncode(this.#clientSecret)}`).toString('base64')}`;
    this.#got = o.got === undefined ? defaultGot : requireFunction<Got>('got', o.got);
    this.#now = o.now === undefined ? Date.now : requireFunction<() => number>('now', o.now);
  }

  /**
   * The client-credentials grant: a client-wide token, or with `scope` a token restricted to one
   * user. Sends `client_id`, `client_secret`, `grant_type=client_credentials` and `scope` only when
   * one is given.
   */
  clientCredentials(options: ClientCredentialsOptions = {}): Promise<Token> {
    const invalid = invalidRequestOptions(options);
    if (invalid !== undefined) return Promise.reject(invalid);
    const { scope, signal, onAnswer, retryBy } = options;
    const badScope = invalidScope(scope);
    if (badScope !== undefined) return Promise.reject(badScope);
    const form: Record<string, string> = { ...this.#tokenParams, grant_type: 'client_credentials' };
    if (scope !== undefined) form.scope = scope;
    return this.#send(form, { scope, checkScope: true, signal, onAnswer, retryBy, authenticate: true });
  }

  /**
   * The refresh grant. Sends `grant_type=refresh_token` and `refresh_token`, plus the client
   * credentials when `refreshWithClientCredentials` (or this call's `authenticate`) is set. The answer may rotate the refresh token;
   * the returned {@link Token} carries whichever the server sent.
   */
  refresh(options: RefreshOptions): Promise<Token> {
    const invalid = invalidRequestOptions(options ?? {});
    if (invalid !== undefined) return Promise.reject(invalid);
    const { refreshToken, scope, signal, onAnswer, retryBy, authenticate } = options ?? ({} as RefreshOptions);
    if (typeof refreshToken !== 'string' || refreshToken.length === 0) {
      return Promise.reject(new InvalidArgumentError('refreshToken', 'Expected `refreshToken` to be a non-empty string'));
    }
    const badScope = scope === null ? undefined : invalidScope(scope);
    if (badScope !== undefined) return Promise.reject(badScope);
    if (authenticate !== undefined && typeof authenticate !== 'boolean') {
      return Promise.reject(new InvalidArgumentError('authenticate', 'Expected `authenticate` to be a boolean or undefined'));
    }
    const form: Record<string, string> = { ...this.#tokenParams, grant_type: 'refresh_token', refresh_token: refreshToken };
    return this.#send(form, {
      scope: scope ?? undefined,
      checkScope: scope !== undefined,
      signal,
      onAnswer,
      retryBy,
      authenticate: authenticate ?? this.refreshWithClientCredentials,
      refreshToken,
    });
  }

  async #send(
    form: Record<string, string>,
    {
      scope,
      checkScope,
      signal,
      onAnswer,
      retryBy,
      authenticate,
      refreshToken,
    }: {
      scope: string | undefined;
      checkScope: boolean;
      signal: AbortSignal | undefined;
      onAnswer: ((status: number) => void) | undefined;
      retryBy: number | undefined;
      authenticate: boolean;
      refreshToken?: string;
    },
  ): Promise<Token> {
    if (signal?.aborted) throw new AbortError(signal.reason);
    const secrets = [this.#clientSecret, this.#basic.slice(6), ...(refreshToken === undefined ? [] : [refreshToken])];
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: 'application/json' };
    // The credentials go in exactly one place.
    if (authenticate && this.clientAuth === 'client_secret_basic') headers.authorization = this.#basic;
    else if (authenticate) {
      form.client_id = this.clientId;
      form.client_secret = this.#clientSecret;
    }
    let sentAt = this.#now();
    let tooLarge = false;
    const options: OptionsOfTextResponseBody = {
      method: 'POST',
      form,
      headers,
      responseType: 'text',
      throwHttpErrors: true,
      followRedirect: false,
      timeout: { request: this.timeout },
      retry: {
        limit: this.retry,
        methods: ['POST'],
        statusCodes: [...RETRYABLE_STATUSES],
        calculateDelay: ({ attemptCount, error, retryAfter }) =>
          retryDelay({
            attemptCount,
            limit: this.retry,
            // Only an HTTPError is an answer; an error that merely has a response (a body cut
            // off mid-read) is a transport failure, judged by its code.
            status: error.name === 'HTTPError' ? error.response?.statusCode : undefined,
            errorCode: error.name === 'HTTPError' ? error.code : (error.code ?? 'ECONNRESET'),
            body: error.response?.body,
            // got computes Retry-After with the real clock; recompute it with ours when there is one.
            retryAfterMs:
              parseRetryAfter(error.response?.headers['retry-after'], this.#now()) ??
              (retryAfter === undefined ? undefined : Math.max(0, retryAfter)),
            retryBy,
            now: this.#now(),
          }),
      },
      hooks: {
        // Runs before each attempt: the token is never older than the last send.
        beforeRequest: [
          () => {
            sentAt = this.#now();
          },
        ],
      },
    };

    const request = this.#got(this.tokenUrl, options);
    request.on('downloadProgress', ({ transferred, total }) => {
      if (!tooLarge && (transferred > MAX_RESPONSE_BYTES || (total ?? 0) > MAX_RESPONSE_BYTES)) {
        tooLarge = true;
        request.cancel();
      }
    });
    const onAbort = () => request.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });

    let response: Response<string>;
    try {
      response = await request;
    } catch (error) {
      if (signal?.aborted) throw new AbortError(signal.reason);
      if (tooLarge) {
        throw new InvalidTokenResponseError('body_too_large', 200, `the answer is larger than ${MAX_RESPONSE_BYTES} bytes`);
      }
      throw this.#translate(error as RequestError, secrets);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }

    const status = response.statusCode;
    onAnswer?.(status);
    if (status < 200 || status > 299) {
      // A redirect (followRedirect is off, so a secret never follows one) or another odd status.
      throw this.#errorAnswer(status, response, secrets);
    }
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      throw new InvalidTokenResponseError('not_json', status, `the body is not JSON (content-type ${safeContentType(response)})`);
    }
    if (typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string') {
      throw this.#errorAnswer(status, response, secrets, body as Record<string, unknown>);
    }
    return parseTokenResponse(body, { issuedAt: sentAt, scope, checkScope, status, defaultExpiresIn: this.defaultExpiresIn, secrets });
  }

  #translate(error: RequestError, secrets: string[]): FluxTokenError {
    const cause = sanitizedCause(error);
    if (error.name === 'HTTPError' && error.response) {
      return this.#errorAnswer(error.response.statusCode, error.response as Response<string>, secrets);
    }
    // A timeout first: one that fires while the body is still arriving (a slow-loris answer) has a
    // response too, and is still a timeout.
    if (error.name === 'TimeoutError' || error.code === 'ETIMEDOUT') {
      const what = error.response ? 'finish its answer' : 'answer';
      return new TokenRequestError('timeout', `The token endpoint did not ${what} within ${this.timeout} ms`, { cause });
    }
    if (error.response) {
      return new TokenRequestError('network', `The token endpoint's answer was cut off (${error.code ?? error.name})`, { cause });
    }
    return new TokenRequestError('network', `The token endpoint could not be reached (${error.code ?? error.name})`, {
      cause,
    });
  }

  #errorAnswer(
    status: number,
    response: Response<unknown>,
    secrets: string[],
    parsed?: Record<string, unknown>,
  ): TokenEndpointError {
    let json = parsed;
    if (json === undefined && typeof response.body === 'string') {
      try {
        const value = JSON.parse(response.body) as unknown;
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) json = value as Record<string, unknown>;
      } catch {
        // An HTML error page or a truncated body: the status alone describes it.
      }
    }
    const field = (name: string) => {
      const value = json?.[name];
      return typeof value === 'string' ? scrubSecrets(value, secrets) : undefined;
    };
    const error = field('error');
    const retryAfterMs = parseRetryAfter(response.headers?.['retry-after'], this.#now());
    return new TokenEndpointError({
      status,
      error,
      errorDescription: field('error_description'),
      errorUri: field('error_uri'),
      retryable: isRetryableAnswer(status, error),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
}

function safeContentType(response: Response<unknown>): string {
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
