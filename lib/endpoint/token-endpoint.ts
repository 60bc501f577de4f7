/**
 * The bottom layer: one class that speaks to Flux's `POST /auth/oauth/token`, and nothing else.
 * It sends a grant, reads the answer strictly, and turns every failure into a typed error. It keeps
 * no state between calls: caching, single flight and refresh timing are the manager's job.
 */
import type { Got, OptionsOfTextResponseBody, RequestError, Response } from 'got';
import {
  AbortError,
  InvalidArgumentError,
  InvalidTokenResponseError,
  TokenEndpointError,
  TokenRequestError,
  redactUrlsIn,
  scrubSecrets,
  type FluxTokenError,
} from '../shared/errors.js';
import { RETRYABLE_STATUSES, isRetryableAnswer, parseRetryAfter, retryDelay } from './retry-policy.js';
import { parseJsonBody } from './json-body.js';
import { parseTokenResponse, MAX_EXPIRES_IN_SECONDS, type Token } from './token.js';
import { requireTokenParams } from './token-params.js';
import { ServerClock, serverDate } from './server-clock.js';
import { requireSecureUrl } from '../shared/url.js';
import {
  invalidRequestOptions,
  invalidScope,
  requireBoolean,
  requireFunction,
  requireNumber,
  requireOneOf,
  requireOptionsObject,
  requireString,
  orDefault,
} from '../shared/validate.js';
import { USER_AGENT } from '../shared/version.js';
import { readGroup, rejectUnknownNames } from '../shared/option-names.js';

export * from './token-endpoint-options.js';
import {
  DEFAULT_RETRY,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_TOKEN_URL,
  ENDPOINT_CLOCK_NAMES,
  ENDPOINT_OPTION_NAMES,
  REPLACED_ENDPOINT_OPTIONS,
  SEND_OPTION_NAMES,
  MAX_RESPONSE_BYTES,
  type ClientAuthMethod,
  type ClientCredentialsOptions,
  type RefreshOptions,
  type TokenEndpointOptions,
} from './token-endpoint-options.js';

/**
 * got costs more start-up time than the rest of the main entry together, and a process that only
 * reads the exports, or injects its own got, never needs it. So the default got is imported on the
 * first request and kept here: later requests reach it without waiting a tick.
 */
let loadedGot: Got | undefined;
let loadingGot: Promise<Got> | undefined;
function loadGot(): Promise<Got> {
  loadingGot ??= import('got').then((module) => (loadedGot = module.default));
  return loadingGot;
}

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
  /** The OAuth2 client id (not a secret). */
  readonly clientId: string;
  /** How the client credentials are sent. */
  readonly clientAuth: ClientAuthMethod;
  /** The lifetime given to a token whose answer and token say nothing about it, in seconds. */
  readonly defaultExpiresIn: number | undefined;
  /** Whether an answer to a user's request must show that user (see `requireUserBinding`). */
  readonly requireUserBinding: boolean;

  // Private fields are invisible to util.inspect and JSON.stringify: the secret stays here.
  readonly #clientSecret: string;
  /** The injected got, or undefined for the shared default one, loaded on the first request. */
  readonly #got: Got | undefined;
  readonly #now: () => number;
  readonly #tokenParams: Readonly<Record<string, string>>;
  /** The `Authorization` header value of `client_secret_basic`; a secret too. */
  readonly #basic: string;
  /** The server's clock, learned from the `Date` header of its answers. */
  readonly #serverClock = new ServerClock();

  constructor(options: TokenEndpointOptions) {
    const o = requireOptionsObject('TokenEndpoint options', options);
    rejectUnknownNames('TokenEndpoint options', '', o, ENDPOINT_OPTION_NAMES, REPLACED_ENDPOINT_OPTIONS);
    const request = readGroup('TokenEndpoint options', 'request', o.request, SEND_OPTION_NAMES);
    const clock = readGroup('TokenEndpoint options', 'clock', o.clock, ENDPOINT_CLOCK_NAMES);
    this.clientId = requireString('clientId', o.clientId);
    this.#clientSecret = requireString('clientSecret', o.clientSecret, true);
    this.tokenUrl = requireSecureUrl('tokenUrl', orDefault(o.tokenUrl, DEFAULT_TOKEN_URL));
    this.timeout = requireNumber('request.timeout', orDefault(request.timeout, DEFAULT_TIMEOUT_MS), { min: 1, max: 10 * 60_000 });
    this.retry = requireNumber('request.retry', orDefault(request.retry, DEFAULT_RETRY), { min: 0, max: 10, integer: true });
    this.clientAuth = requireOneOf<ClientAuthMethod>('clientAuth', orDefault(o.clientAuth, 'client_secret_post'), [
      'client_secret_post',
      'client_secret_basic',
    ]);
    this.requireUserBinding = requireBoolean('requireUserBinding', orDefault(o.requireUserBinding, false));
    this.#tokenParams = requireTokenParams(o.tokenParams);
    this.defaultExpiresIn =
      o.defaultExpiresIn === undefined
        ? undefined
        : requireNumber('defaultExpiresIn', o.defaultExpiresIn, { min: Number.MIN_VALUE, max: MAX_EXPIRES_IN_SECONDS });
    const formEncode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
    this.#basic = `Basic ${Buffer.from(`${formEncode(this.clientId)}:${formEncode(this.#clientSecret)}`).toString('base64')}`;
    this.#got = request.got === undefined ? undefined : requireFunction<Got>('request.got', request.got);
    this.#now = clock.now === undefined ? Date.now : requireFunction<() => number>('clock.now', clock.now);
  }

  /**
   * The server's clock minus ours, in ms, as the `Date` header of its latest answer showed it (to
   * about a second); 0 before any. A JWS `exp` without `iat` and a `Retry-After` date are read
   * against the server's clock.
   */
  get clockOffsetMs(): number {
    return this.#serverClock.offsetMs;
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
   * credentials when this call's `authenticate` is set. The answer may rotate the refresh token;
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
      authenticate: authenticate ?? false,
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
    const got = this.#got ?? loadedGot ?? (await loadGot());
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
              parseRetryAfter(error.response?.headers['retry-after'], this.#serverNowOf(error.response?.headers.date)) ??
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

    const request = got(this.tokenUrl, options);
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
      const answered = (error as RequestError).response;
      if (answered !== undefined) this.#serverClock.learn(answered.headers.date, sentAt, this.#now());
      if (signal?.aborted) throw new AbortError(signal.reason);
      if (tooLarge) {
        throw new InvalidTokenResponseError('body_too_large', 200, `the answer is larger than ${MAX_RESPONSE_BYTES} bytes`);
      }
      throw this.#translate(error as RequestError, secrets);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }

    const status = response.statusCode;
    this.#serverClock.learn(response.headers.date, sentAt, this.#now());
    onAnswer?.(status);
    if (status < 200 || status > 299) {
      // A redirect (followRedirect is off, so a secret never follows one) or another odd status.
      throw this.#errorAnswer(status, response, secrets);
    }
    let body: unknown;
    try {
      body = parseJsonBody(response.body);
    } catch {
      throw new InvalidTokenResponseError('not_json', status, `the body is not JSON (content-type ${safeContentType(response)})`);
    }
    if (typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string') {
      throw this.#errorAnswer(status, response, secrets, body as Record<string, unknown>);
    }
    return parseTokenResponse(body, {
      issuedAt: sentAt,
      serverIssuedAt: this.#serverClock.serverNow(sentAt),
      scope,
      checkScope,
      status,
      defaultExpiresIn: this.defaultExpiresIn,
      requireUserBinding: this.requireUserBinding,
      secrets,
    });
  }

  /**
   * The server's clock now: the answer's own `Date` when it has one (a `Retry-After` date is
   * meant against it), else ours corrected by the offset learned so far.
   */
  #serverNowOf(date: string | string[] | undefined): number {
    return serverDate(date) ?? this.#serverClock.serverNow(this.#now());
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
        const value = parseJsonBody(response.body);
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
    const retryAfterMs = parseRetryAfter(response.headers?.['retry-after'], this.#serverNowOf(response.headers?.date));
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
