/**
 * What a {@link TokenEndpoint} is configured with and what each of its requests takes: the option
 * and request types, their defaults, and the option names the manager passes on. Apart from the
 * client itself so that the client reads as the protocol, and the types as its reference.
 */
import type { Got } from 'got';
import type { FluxTokenError } from '../shared/errors.js';
import { replacedIn, type OptionNames, type ReplacedOptions } from '../shared/option-names.js';

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
   * Refuse an answer to a user's request (`scope` set) that names no `scope` and whose access
   * token cannot show its user (an opaque token, or a JWS without a `restrictedTo` claim), with
   * reason `unbound_token`. Turn it on for a server that answers a scope it does not know, or may
   * not grant, with an unscoped token: on an API where a token without a user is client-wide,
   * handing it out as one user's token gives that user's caller every user's data. Flux binds
   * every token it issues (`restrictedTo`), so it needs no such check; see docs/other-servers.md.
   * @default false
   * @example requireUserBinding: true
   */
  requireUserBinding?: boolean;
  /**
   * How each token request is sent: its timeout, its retries, and the got instance.
   * @example request: { timeout: 5_000, retry: 1 }
   */
  request?: SendOptions;
  /**
   * The clock, injected so that tests can drive time.
   * @example clock: { now: () => fixedNow }
   */
  clock?: EndpointClockOptions;
}

/**
 * How each token request is sent; see {@link TokenEndpointOptions.request}. A `TokenManager` takes
 * the same group, with the same names, for the requests it sends.
 */
export interface SendOptions {
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
   * The got instance to send with, e.g. one with a proxy agent. It must not set `prefixUrl`. The
   * endpoint sets its own method, body, response type, timeout and retry options per request.
   * @default the `got` default export
   */
  got?: Got;
}

/**
 * The endpoint's clock; see {@link TokenEndpointOptions.clock}. A `TokenManager`'s `clock` has the
 * same `now`, plus the timers and the random numbers that the manager also uses.
 */
export interface EndpointClockOptions {
  /**
   * The time, in ms since the epoch: when a token was issued, and how long a `Retry-After` lasts.
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
}

/**
 * Runs one attempt of a request (`send`) once the caller's queue lets it go on the wire, and holds
 * the queue's slot until it settles. Backoff and `Retry-After` waits between attempts happen
 * outside it, so that a wait never holds a slot.
 */
export type Admit = <T>(send: () => Promise<T>) => Promise<T>;

/**
 * What the manager adds to a request. Kept under a symbol that the package does not export, so that
 * the public options stay what a user of the endpoint client needs.
 */
export interface ManagedHooks {
  /**
   * Called with the HTTP status of the answer that settled the request (after the client's own
   * retries), before it is read: metrics and traces record it, also for a successful answer.
   */
  onAnswer?: (status: number) => void;
  /**
   * An instant (ms, by this client's `clock.now`) before which the request should have succeeded. While
   * it is ahead, each backoff between attempts is cut to at most half the time left (not below
   * 100 ms), so that several attempts fit before it. The manager sets it on a renewal in the
   * background: the instant its current token stops being served. A `Retry-After` is still obeyed.
   */
  retryBy?: number;
  /** Admits each attempt to the manager's queue; without it, attempts go at once. */
  admit?: Admit;
  /**
   * Asked as each attempt of a refresh goes on the wire: whether it carries the client credentials.
   * The manager learns that a server wants them from the first refusal, and requests that waited
   * for the queue meanwhile should not each be refused for the same reason. Overrides `authenticate`.
   */
  authenticate?: () => boolean;
  /**
   * Called with the request's error as soon as it is known, while the slot of its last attempt is
   * still held: the manager learns from a refusal before the next request in its queue is sent.
   */
  onFailure?: (error: FluxTokenError) => void;
}

/** The key of {@link ManagedHooks} in a request's options. */
export const MANAGED: unique symbol = Symbol('flux-token-manager.managed-request');

/** Request options as the manager passes them. */
export interface WithManagedHooks {
  [MANAGED]?: ManagedHooks;
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
   * Send the client credentials with this refresh request (RFC 6749 §6). Flux's documented refresh
   * call sends neither `client_id` nor `client_secret`, so the default is not to; set it for a
   * server that requires client authentication there. The manager sets it once it has learned
   * that the server requires them.
   * @default false
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

/**
 * The option names of {@link TokenEndpointOptions}, typed against it: the constructor refuses any
 * other. The manager passes exactly these on.
 */
export const ENDPOINT_OPTION_NAMES: OptionNames<TokenEndpointOptions> = {
  clientId: true,
  clientSecret: true,
  tokenUrl: true,
  clientAuth: true,
  tokenParams: true,
  defaultExpiresIn: true,
  requireUserBinding: true,
  request: true,
  clock: true,
};

/** The names of {@link SendOptions} (`request.timeout`, ...). */
export const SEND_OPTION_NAMES: OptionNames<SendOptions> = { timeout: true, retry: true, got: true };

/** The names of {@link EndpointClockOptions} (`clock.now`). */
export const ENDPOINT_CLOCK_NAMES: OptionNames<EndpointClockOptions> = { now: true };

/**
 * The options of 0.1 that 0.2 moved into a group or removed, each with the sentence a user who
 * still passes it is told. The manager's own are in manager-options.ts.
 */
export const REPLACED_ENDPOINT_OPTIONS: ReplacedOptions = {
  ...replacedIn('0.2', { timeout: 'request.timeout', retry: 'request.retry', got: 'request.got', now: 'clock.now' }),
  refreshWithClientCredentials:
    '`refreshWithClientCredentials` was removed in 0.2: pass `authenticate: true` to `refresh()` to send the client credentials with a refresh',
};
