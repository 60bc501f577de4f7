/**
 * `flux-token-manager/axios`: interceptors that make an axios 1.x instance send the right user's
 * token, with the rules of the got hooks and of `authFetch` (see http-auth.ts).
 *
 * ```ts
 * import axios from 'axios';
 * import { axiosAuth } from 'flux-token-manager/axios';
 * const flux = axios.create({ baseURL: 'https://api.test.tryflux.com' });
 * axiosAuth(flux, tokens);
 * await flux.get('/users/42/receipts', { scope: '42' });
 * ```
 *
 * Only axios's types are imported, so the interceptors bind to no particular copy of axios. The
 * state of one request lives in a WeakMap keyed by its config (the object axios hands from the
 * request interceptor to the response), never on the config itself, which axios errors serialize.
 */
import type { AxiosError, AxiosInstance, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { bearer, isStreamBody, renewAfter401, requestScope, resolveHttpAuth, type HttpAuthOptions, type TokenSource } from './http-auth.js';
import { originOf } from './origins.js';
import { ConfigurationError } from '../shared/errors.js';
import { describe } from '../shared/validate.js';
import type { Token } from '../endpoint/token.js';

export type { TokenSource } from './http-auth.js';
export type { OnForeignOrigin } from './origins.js';
export { ForeignOriginError, MissingScopeError } from '../shared/errors.js';

declare module 'axios' {
  interface AxiosRequestConfig {
    /**
     * The user id whose token `axiosAuth` sends with this request, or `null` for the client-wide
     * token. It takes precedence over `axiosAuth`'s `scope` option.
     */
    scope?: string | null;
  }
}

/**
 * Options of {@link axiosAuth}.
 *
 * The scope of a request is its config's `scope` when it has one, otherwise this `scope` option;
 * `null` in either asks for the client-wide token, and neither fails the request with
 * `MissingScopeError` before anything is sent.
 */
export interface AxiosAuthOptions extends HttpAuthOptions<InternalAxiosRequestConfig> {
  /**
   * The user id whose token is sent, `null` for the client-wide token, or a function of the
   * request config that returns one of those. A request's own `scope` takes precedence.
   * @example scope: (config) => /^\/users\/([^/]+)\//.exec(config.url ?? '')?.[1]
   */
  scope?: string | null | ((config: InternalAxiosRequestConfig) => string | null | undefined);
}

/** What the interceptors know about one request they sent a token with. */
interface Mark {
  readonly scope: string | undefined;
  readonly token: Token;
  /** The exact header value set with `token`, to tell it from one the caller set. */
  readonly header: string;
  /** True on the one retry after a 401: a 401 to it goes back to the caller. */
  readonly retried: boolean;
}

/** A retry carries its mark through axios's config merge under this name, holding no secret. */
const RETRY = 'fluxTokenManagerRetry';

/** What an axios error shows in place of a managed token. */
const REDACTED = 'Bearer [redacted]';

/** The URL of the hop that answered, when axios's adapter tells it (node's, after redirects). */
function answeredUrl(response: AxiosResponse): string | undefined {
  const request = response.request as { res?: { responseUrl?: unknown }; responseURL?: unknown } | undefined;
  const url = request?.res?.responseUrl ?? request?.responseURL;
  return typeof url === 'string' && url !== '' ? url : undefined;
}

/** What axios reads as an absolute URL (`isAbsoluteURL`): a scheme, or `//`, then the authority. */
const ABSOLUTE = /^([a-z][a-z\d+\-.]*:)?\/\//i;

/**
 * The URL whose origin a request goes to. axios joins `baseURL` and a relative `url` as text
 * (`base/` + `url`), so such a request goes to the origin of `baseURL`; an absolute `url` goes to
 * its own. Other cases (protocol-relative URLs, `allowAbsoluteUrls: false`, no `baseURL`) ask axios
 * itself, which costs a merge of the config per request.
 */
function targetOf(instance: AxiosInstance, config: InternalAxiosRequestConfig): string {
  const { url, baseURL } = config;
  if (typeof url === 'string' && /^https?:\/\//i.test(url) && config.allowAbsoluteUrls !== false) return url;
  if (typeof url === 'string' && typeof baseURL === 'string' && /^https?:\/\//i.test(baseURL) && !ABSOLUTE.test(url)) return baseURL;
  return instance.getUri(config);
}

/**
 * Installs request and response interceptors on `instance` that send a token from `manager` on
 * requests to allowed origins, and retry once with a fresh token after a 401. Returns a function
 * that removes both interceptors.
 *
 * - The scope is the request config's `scope`, else the `scope` option (`null`: client-wide), else
 *   the request fails with `MissingScopeError` before anything is sent.
 * - A request with an `Authorization` header of the caller's is sent as it is, and never retried.
 * - A request to a foreign origin is sent without a token, or rejected with `ForeignOriginError`
 *   before anything is sent (`onForeignOrigin: 'throw'`). The request's `beforeRedirect` (chained
 *   with the caller's) drops the token when a redirect leaves the origin, on every axios 1.x; a
 *   401 from a hop on another origin is not retried.
 * - After a 401 to a request that carried a managed token, that exact token is invalidated and the
 *   request is sent once more (through the instance, so other interceptors run again) with a fresh
 *   token. A second 401, or a 401 while the scope waits out its 401-loop cool-down, goes back to
 *   the caller as axios would give it (an `AxiosError`, or the response under `validateStatus`).
 *   A stream body cannot be sent twice: its 401 goes back at once, the token still invalidated.
 * - A managed token in an error's `config.headers` is replaced by `Bearer [redacted]`, since
 *   `AxiosError.toJSON()` serializes the config, and the error's Node requests are made
 *   non-enumerable, so that `util.inspect` of the error prints no token.
 *
 * Validates `instance`, `manager` and `options` now, throwing `ConfigurationError` naming the option.
 *
 * @example
 * const flux = axios.create({ baseURL: 'https://api.test.tryflux.com' });
 * const remove = axiosAuth(flux, tokens);
 * await flux.get('/users/42/receipts', { scope: '42' });
 */
export function axiosAuth(instance: AxiosInstance, manager: TokenSource, options?: AxiosAuthOptions): () => void {
  const { settings } = resolveHttpAuth<InternalAxiosRequestConfig>('axiosAuth', manager, options);
  requireInstance(instance);
  const { source, origins } = settings;
  const marks = new WeakMap<object, Mark>();

  const onRequest = async (config: InternalAxiosRequestConfig): Promise<InternalAxiosRequestConfig> => {
    const retry = (config as unknown as Record<string, unknown>)[RETRY] as Omit<Mark, 'header'> | undefined;
    const header = config.headers.get('authorization');
    if (retry !== undefined) {
      delete (config as unknown as Record<string, unknown>)[RETRY];
      marks.set(config, { ...retry, header: String(header), retried: true });
      return config;
    }
    if (header !== undefined && header !== null && header !== REDACTED) return config; // the caller's own
    if (header === REDACTED) config.headers.delete('authorization'); // a failed request sent again
    if (!origins.admit(targetOf(instance, config))) return config;
    const scope = requestScope(settings, config.scope, config);
    const token = await source.getToken(scope, config.signal instanceof AbortSignal ? { signal: config.signal } : undefined);
    const value = bearer(token);
    config.headers.set('authorization', value);
    config.beforeRedirect = dropTokenOffOrigin(targetOf(instance, config), config.beforeRedirect);
    marks.set(config, { scope, token, header: value, retried: false });
    return config;
  };

  /** A fresh response for a 401, or undefined to hand the 401 back. */
  const after401 = async (response: AxiosResponse): Promise<AxiosResponse | undefined> => {
    const config = response.config;
    const mark = marks.get(config);
    if (mark === undefined || mark.retried || config.headers.get('authorization') !== mark.header) return undefined;
    const answered = answeredUrl(response);
    if (answered !== undefined && originOf(answered) !== originOf(targetOf(instance, config))) return undefined;
    if (isStreamBody(config.data)) {
      // A stream body was read as it was sent: a resend would go out empty. The 401 goes back,
      // and the refused token is not handed out again.
      source.invalidate(mark.scope, mark.token);
      return undefined;
    }
    const fresh = await renewAfter401(source, mark.scope, mark.token, config.signal instanceof AbortSignal ? config.signal : undefined);
    if (fresh === undefined) return undefined; // the 401-loop cool-down: no resend with the refused token
    // The 401's body may be an unread stream (`responseType: 'stream'`), which holds its socket:
    // a keep-alive agent with few sockets would queue the retry behind it.
    discard(response.data);
    const value = bearer(fresh);
    const headers = config.headers.concat({ authorization: value });
    const retried: Omit<Mark, 'header'> = { scope: mark.scope, token: fresh, retried: true };
    return instance.request({ ...config, headers, [RETRY]: retried } as InternalAxiosRequestConfig);
  };

  /**
   * Replaces a managed token in the error's config, which axios errors serialize, and hides the
   * error's Node request objects from `util.inspect` (see {@link hideRequests}).
   */
  const redact = (failed: Partial<AxiosError>): void => {
    const config = failed.config;
    const mark = config === undefined ? undefined : marks.get(config);
    if (config === undefined || mark === undefined) return;
    if (config.headers.get('authorization') === mark.header) config.headers.set('authorization', REDACTED);
    hideRequests(failed);
  };

  const onResponse = async (response: AxiosResponse): Promise<AxiosResponse> => {
    if (response.status !== 401) return response;
    return (await after401(response)) ?? response;
  };

  const onError = async (error: unknown): Promise<AxiosResponse> => {
    const failed = error as Partial<AxiosError>;
    if (failed.response?.status === 401) {
      let retried: AxiosResponse | undefined;
      try {
        retried = await after401(failed.response);
      } catch (renewal) {
        redact(failed);
        throw renewal;
      }
      if (retried !== undefined) return retried;
    }
    redact(failed);
    throw error;
  };

  const requestId = instance.interceptors.request.use(onRequest);
  const responseId = instance.interceptors.response.use(onResponse, onError);
  return () => {
    instance.interceptors.request.eject(requestId);
    instance.interceptors.response.eject(responseId);
  };
}

/** The `beforeRedirect` hooks this module installed, each with the caller's own it chains to. */
const guards = new WeakMap<object, BeforeRedirect | undefined>();

type BeforeRedirect = NonNullable<InternalAxiosRequestConfig['beforeRedirect']>;

/** The options of the next hop as follow-redirects hands them to `beforeRedirect`. */
interface HopOptions {
  href?: unknown;
  headers?: Record<string, unknown>;
}

/**
 * A `beforeRedirect` for axios's node adapter (follow-redirects) that deletes `authorization`
 * when a hop leaves the origin of the first one, then calls the caller's own `beforeRedirect`.
 * Recent axios strips the header itself on such a hop, older 1.x releases keep it for a
 * subdomain: this holds for every axios in the peer range. It never adds a header. A config sent
 * again keeps one guard: the caller's hook is taken out of the old guard, not wrapped twice.
 */
function dropTokenOffOrigin(first: string, own: InternalAxiosRequestConfig['beforeRedirect']): BeforeRedirect {
  const caller = own !== undefined && guards.has(own) ? guards.get(own) : own;
  const origin = originOf(first);
  const guard: BeforeRedirect = (...details: Parameters<BeforeRedirect>) => {
    const hop = details[0] as HopOptions;
    const next = typeof hop.href === 'string' ? originOf(hop.href) : undefined;
    if (hop.headers !== undefined && (next === undefined || next !== origin)) {
      for (const name of Object.keys(hop.headers)) if (name.toLowerCase() === 'authorization') delete hop.headers[name];
    }
    caller?.(...details);
  };
  guards.set(guard, caller);
  return guard;
}

/**
 * Makes an axios error's `request` (Node's ClientRequest, which keeps the request head as sent,
 * token included, in `_header` and its outgoing headers) and its response's `request`
 * non-enumerable: still there for code that reads them, absent from `util.inspect` and loggers
 * that walk enumerable keys.
 */
function hideRequests(failed: Partial<AxiosError>): void {
  for (const holder of [failed, failed.response]) {
    if (holder !== undefined && holder !== null && Object.prototype.propertyIsEnumerable.call(holder, 'request')) {
      Object.defineProperty(holder, 'request', { value: (holder as { request?: unknown }).request, enumerable: false, writable: true, configurable: true });
    }
  }
}

/** Releases an unread response stream (`responseType: 'stream'`) and its socket. */
function discard(data: unknown): void {
  const stream = data as { destroy?: unknown; pipe?: unknown } | null | undefined;
  if (typeof stream === 'object' && stream !== null && typeof stream.pipe === 'function' && typeof stream.destroy === 'function') {
    (stream.destroy as () => void).call(stream);
  }
}

/** `instance` must be an axios instance (something with interceptors and getUri). */
function requireInstance(instance: unknown): void {
  const candidate = instance as Partial<AxiosInstance> | null | undefined;
  if (
    (typeof candidate !== 'function' && typeof candidate !== 'object') ||
    candidate === null ||
    typeof candidate.getUri !== 'function' ||
    typeof candidate.interceptors?.request?.use !== 'function'
  ) {
    throw new ConfigurationError('instance', `Expected \`instance\` to be an axios instance (from axios.create()), got ${describe(instance)}`);
  }
}
