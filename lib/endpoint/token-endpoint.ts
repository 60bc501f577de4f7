/**
 * The bottom layer: one class that speaks to Flux's `POST /auth/oauth/token`, and nothing else.
 * It sends a grant, reads the answer strictly, and turns every failure into a typed error. It keeps
 * no state between calls: caching, single flight and refresh timing are the manager's job.
 */
import type { Got, RequestError, Response } from 'got';
import { pause, sendAttempt, type Attempt, type Wire } from './attempt.js';
import { AbortError, InvalidArgumentError, InvalidTokenResponseError, type FluxTokenError } from '../shared/errors.js';
import { errorAnswer, safeContentType, translateRequestError, type FailureContext } from './answer-errors.js';
import { parseRetryAfter, retryDelay } from './retry-policy.js';
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
  MANAGED,
  REPLACED_ENDPOINT_OPTIONS,
  SEND_OPTION_NAMES,
  MAX_RESPONSE_BYTES,
  type Admit,
  type ClientAuthMethod,
  type ClientCredentialsOptions,
  type ManagedHooks,
  type RefreshOptions,
  type TokenEndpointOptions,
  type WithManagedHooks,
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
  /** Where and how long each attempt goes. */
  readonly #wire: Wire;

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
    this.#wire = { url: this.tokenUrl, timeoutMs: this.timeout, now: this.#now };
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
    const { scope, signal } = options;
    const badScope = invalidScope(scope);
    if (badScope !== undefined) return Promise.reject(badScope);
    const form: Record<string, string> = { ...this.#tokenParams, grant_type: 'client_credentials' };
    if (scope !== undefined) form.scope = scope;
    return this.#send(form, { scope, checkScope: true, signal, hooks: hooksOf(options), authenticate: true });
  }

  /**
   * The refresh grant. Sends `grant_type=refresh_token` and `refresh_token`, plus the client
   * credentials when this call's `authenticate` is set. The answer may rotate the refresh token;
   * the returned {@link Token} carries whichever the server sent.
   */
  refresh(options: RefreshOptions): Promise<Token> {
    const invalid = invalidRequestOptions(options ?? {});
    if (invalid !== undefined) return Promise.reject(invalid);
    const { refreshToken, scope, signal, authenticate } = options ?? ({} as RefreshOptions);
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
      hooks: hooksOf(options),
      authenticate: authenticate ?? false,
      refreshToken,
    });
  }

  /**
   * Sends one grant: its attempts, each admitted by the caller's queue when there is one, and
   * between them the backoff (or `Retry-After`) that the retry policy gives, waited outside the
   * queue. Each attempt's answer is read while its slot is held, so that the manager learns from a
   * refusal before the next attempt in its queue is sent.
   */
  async #send(form: Record<string, string>, request: GrantRequest): Promise<Token> {
    const { signal, hooks, authenticate, refreshToken } = request;
    const got = this.#got ?? loadedGot ?? (await loadGot());
    const secrets = [this.#clientSecret, this.#basic.slice(6), ...(refreshToken === undefined ? [] : [refreshToken])];
    const context: FailureContext = { secrets, timeoutMs: this.timeout, serverNowOf: (date) => this.#serverNowOf(date) };
    const admit: Admit = hooks.admit ?? ((send) => send());
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new AbortError(signal.reason);
      const step = await admit(async (): Promise<Step> => {
        const outcome = await sendAttempt(got, this.#wire, this.#signed(form, hooks.authenticate?.() ?? authenticate), signal);
        const next = this.#judge(outcome, attempt, request, context);
        if ('error' in next && !(next.error instanceof AbortError)) hooks.onFailure?.(next.error);
        return next;
      });
      if ('token' in step) return step.token;
      if ('error' in step) throw step.error;
      await pause(step.retryIn, signal);
    }
  }

  /** What one attempt's outcome means: a token, the request's error, or another attempt after a wait. */
  #judge(outcome: Attempt, attempt: number, request: GrantRequest, context: FailureContext): Step {
    const { signal, hooks } = request;
    if (outcome.answered !== undefined) this.#serverClock.learn(outcome.answered.headers.date, outcome.sentAt, this.#now());
    try {
      if (outcome.response !== undefined) return { token: this.#read(outcome.response, outcome.sentAt, request, context) };
    } catch (error) {
      return { error: error as FluxTokenError };
    }
    if (signal?.aborted) return { error: new AbortError(signal.reason) };
    if (outcome.tooLarge) {
      return { error: new InvalidTokenResponseError('body_too_large', 200, `the answer is larger than ${MAX_RESPONSE_BYTES} bytes`) };
    }
    const delay = this.#retryDelay(outcome.error, attempt, hooks.retryBy);
    return delay === 0 ? { error: translateRequestError(outcome.error, context) } : { retryIn: delay };
  }

  /** The form and headers of one attempt; with `authenticate`, the credentials go in exactly one place. */
  #signed(form: Record<string, string>, authenticate: boolean): { form: Record<string, string>; headers: Record<string, string> } {
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: 'application/json' };
    if (!authenticate) return { form, headers };
    if (this.clientAuth === 'client_secret_basic') return { form, headers: { ...headers, authorization: this.#basic } };
    return { form: { ...form, client_id: this.clientId, client_secret: this.#clientSecret }, headers };
  }

  /** The wait before the next attempt after `error` (the `attempt`-th failed), or 0 to stop. */
  #retryDelay(error: RequestError, attempt: number, retryBy: number | undefined): number {
    const answered = error.name === 'HTTPError' ? error.response : undefined;
    return retryDelay({
      attemptCount: attempt,
      limit: this.retry,
      // Only an HTTPError is an answer; an error that merely has a response (a body cut off
      // mid-read) is a transport failure, judged by its code.
      status: answered?.statusCode,
      errorCode: answered !== undefined ? error.code : (error.code ?? 'ECONNRESET'),
      body: error.response?.body,
      retryAfterMs: parseRetryAfter(error.response?.headers['retry-after'], this.#serverNowOf(error.response?.headers.date)),
      retryBy,
      now: this.#now(),
    });
  }

  /** Reads a settled answer (2xx, or a redirect, which is never followed) into a token, or its typed error. */
  #read(response: Response<string>, sentAt: number, request: GrantRequest, context: FailureContext): Token {
    const status = response.statusCode;
    request.hooks.onAnswer?.(status);
    if (status < 200 || status > 299) {
      // A redirect (followRedirect is off, so a secret never follows one) or another odd status.
      throw errorAnswer(status, response, context);
    }
    let body: unknown;
    try {
      body = parseJsonBody(response.body);
    } catch {
      throw new InvalidTokenResponseError('not_json', status, `the body is not JSON (content-type ${safeContentType(response)})`);
    }
    if (typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string') {
      throw errorAnswer(status, response, context, body as Record<string, unknown>);
    }
    return parseTokenResponse(body, {
      issuedAt: sentAt,
      serverIssuedAt: this.#serverClock.serverNow(sentAt),
      scope: request.scope,
      checkScope: request.checkScope,
      status,
      defaultExpiresIn: this.defaultExpiresIn,
      requireUserBinding: this.requireUserBinding,
      secrets: context.secrets,
    });
  }

  /**
   * The server's clock now: the answer's own `Date` when it has one (a `Retry-After` date is
   * meant against it), else ours corrected by the offset learned so far.
   */
  #serverNowOf(date: string | string[] | undefined): number {
    return serverDate(date) ?? this.#serverClock.serverNow(this.#now());
  }
}

/** One grant to send, as the public methods validated it. */
interface GrantRequest {
  scope: string | undefined;
  checkScope: boolean;
  signal: AbortSignal | undefined;
  hooks: ManagedHooks;
  authenticate: boolean;
  refreshToken?: string;
}

/** The next step of a request after one attempt. */
type Step = { token: Token } | { error: FluxTokenError } | { retryIn: number };

function hooksOf(options: object): ManagedHooks {
  return (options as WithManagedHooks)[MANAGED] ?? {};
}
