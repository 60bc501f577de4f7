/**
 * `flux-token-manager/undici`: an undici 7 interceptor that sends the right user's token, with the
 * rules of the got hooks and of `authFetch` (see http-auth.ts), for every request of a dispatcher:
 * `undici.request`, undici's `fetch`, and Node's global `fetch` through `setGlobalDispatcher`.
 *
 * ```ts
 * import { Agent, interceptors, request, setGlobalDispatcher } from 'undici';
 * import { undiciAuth } from 'flux-token-manager/undici';
 * const dispatcher = new Agent().compose(interceptors.redirect({ maxRedirections: 3 }), undiciAuth(tokens, { scope: '42' }));
 * await request('https://api.test.tryflux.com/users/42/receipts', { dispatcher });
 * setGlobalDispatcher(dispatcher); // and Node's fetch sends tokens too
 * ```
 *
 * Only undici's types are imported, so the interceptor binds to no particular copy of undici.
 */
import type { Dispatcher } from 'undici';
import { bearer, renewAfter401, requestScope, resolveHttpAuth, type HttpAuthOptions, type TokenSource } from './http-auth.js';
import { originOf } from './origins.js';
import { AbortLink, rawCaller, type RawCaller } from './undici-caller.js';
import { AttemptHandler, type AttemptHooks } from './undici-handler.js';
import { ConfigurationError } from '../shared/errors.js';
import { describe } from '../shared/validate.js';
import type { Token } from '../endpoint/token.js';

export type { TokenSource } from './http-auth.js';
export type { OnForeignOrigin } from './origins.js';
export { ForeignOriginError, MissingScopeError } from '../shared/errors.js';

/** Options of {@link undiciAuth}. */
export interface UndiciAuthOptions extends HttpAuthOptions<Dispatcher.DispatchOptions> {
  /**
   * The user id whose token is sent, `null` for the client-wide token, or a function of the
   * dispatch options (`origin`, `path`, `method`, `headers`) that returns one of those. Without a
   * user, a request to an allowed origin fails with `MissingScopeError` before anything is sent.
   * @example scope: (options) => /^\/users\/([^/]+)\//.exec(options.path)?.[1]
   */
  scope?: string | null | ((options: Dispatcher.DispatchOptions) => string | null | undefined);
}

/** A headers value of any shape undici accepts, as name/value pairs. */
function headerPairs(headers: Dispatcher.DispatchOptions['headers']): [string, string | string[]][] {
  if (headers === undefined || headers === null) return [];
  const pairs: [string, string | string[]][] = [];
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) pairs.push([String(headers[i]), String(headers[i + 1])]);
  } else if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [name, value] of headers as Iterable<[string, string | string[] | undefined]>) if (value !== undefined) pairs.push([name, value]);
  } else {
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) pairs.push([name, value as string | string[]]);
  }
  return pairs;
}

/**
 * The request's headers with `authorization` added (the caller's have none: such a request is
 * sent as it is). Every value is kept: a flat array stays a flat array, and a name repeated in an
 * iterable becomes one array of its values, which undici sends as repeated lines.
 */
function withAuthorization(headers: Dispatcher.DispatchOptions['headers'], pairs: [string, string | string[]][], value: string): Dispatcher.DispatchOptions['headers'] {
  if (Array.isArray(headers)) return [...(headers as string[]), 'authorization', value];
  const merged: Record<string, string | string[]> = {};
  for (const [name, given] of pairs) {
    const before = merged[name];
    merged[name] = before === undefined ? given : [...[before].flat(), ...[given].flat()];
  }
  merged.authorization = value;
  return merged;
}

/** A body undici can send again: none, a string or bytes. A stream or an iterable is read once. */
function replayable(body: unknown): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
}

/** The error of a dispatch without an origin (see {@link undiciAuth}). */
function unknownOrigin(given: unknown): ConfigurationError {
  return new ConfigurationError(
    'origin',
    `Expected the request options to have an \`origin\` such as \`https://api.example.com\` (undiciAuth cannot see the origin of a Pool or Client it is composed on), got ${given === undefined ? 'none' : `${describe(typeof given)} that is no absolute URL`}`,
  );
}

/** Where an interceptor's requests go, and where their tokens come from. */
interface Route {
  readonly dispatch: Dispatcher.Dispatch;
  readonly source: TokenSource;
}

/** What the interceptor found out about a request before it asked for a token. */
interface Decided {
  /** The request's headers as name/value pairs (none of them `authorization`). */
  readonly pairs: [string, string | string[]][];
  /** The request's origin, an allowed one. */
  readonly origin: string;
  /** The user (undefined: the client-wide token). */
  readonly scope: string | undefined;
}

/**
 * One request through `undiciAuth`, from its first attempt to its retry: what the attempts ask of
 * the adapter (see AttemptHooks). One object per request, so that the hot path makes no closures.
 */
class AuthorizedRequest implements AttemptHooks<Token> {
  readonly caller: RawCaller;
  readonly link = new AbortLink();
  started = false;
  readonly #route: Route;
  readonly #opts: Dispatcher.DispatchOptions;
  readonly #pairs: [string, string | string[]][];
  readonly #origin: string;
  readonly #scope: string | undefined;
  readonly #signal: AbortSignal | undefined;

  constructor(route: Route, opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler, decided: Decided) {
    this.#route = route;
    this.#opts = opts;
    this.caller = rawCaller(handler, this.link);
    this.#pairs = decided.pairs;
    this.#origin = decided.origin;
    this.#scope = decided.scope;
    const given = (opts as { signal?: unknown }).signal; // undici.request's `signal`, when it is an AbortSignal
    this.#signal = given instanceof AbortSignal ? given : undefined;
  }

  /** Dispatches one attempt with `token`. */
  send(token: Token, retried: boolean): boolean {
    const headers = withAuthorization(this.#opts.headers, this.#pairs, bearer(token));
    return this.#route.dispatch({ ...this.#opts, headers }, new AttemptHandler(this, token, retried));
  }

  /** Waits for a token (none was cached), then sends the first attempt. */
  sendWhenReady(): void {
    const signal = this.#signal;
    this.#route.source.getToken(this.#scope, signal === undefined ? undefined : { signal }).then(
      (token) => {
        try {
          this.send(token, false);
        } catch (error) {
          this.fail(error);
        }
      },
      (error: unknown) => this.fail(error),
    );
  }

  on401(token: Token, retried: boolean, answered: string | undefined): 'hold' | 'pass' {
    if (retried || (answered !== undefined && answered !== this.#origin)) return 'pass';
    if (!replayable(this.#opts.body)) {
      this.#route.source.invalidate(this.#scope, token);
      return 'pass';
    }
    return 'hold';
  }

  async retry(token: Token): Promise<boolean> {
    const fresh = await renewAfter401(this.#route.source, this.#scope, token, this.#signal);
    if (fresh === undefined || this.link.aborted) return false;
    this.send(fresh, true);
    return true;
  }

  // A 401 too large to hold goes back as a stream body's does: no retry, the token invalidated.
  gaveUp(token: Token): void {
    this.#route.source.invalidate(this.#scope, token);
  }

  fail(error: unknown): void {
    this.caller.onError?.(error as Error);
  }
}

/**
 * An interceptor for `Dispatcher.compose` (undici 7) that sends a token from `manager` on
 * requests to allowed origins, and retries once with a fresh token after a 401.
 *
 * - The scope is the `scope` option (a user id, `null` for the client-wide token, or a function
 *   of the dispatch options); without a user, the request fails with `MissingScopeError`.
 * - A request with an `Authorization` header of the caller's is sent as it is, and never retried.
 * - A request to a foreign origin is sent without a token, or fails with `ForeignOriginError`
 *   before anything is sent (`onForeignOrigin: 'throw'`).
 * - After a 401 to a request that carried a managed token, that exact token is invalidated, the
 *   401 is held back, and the request is dispatched once more with a fresh token. A second 401,
 *   or a 401 while the scope waits out its 401-loop cool-down, goes back to the caller. A body
 *   that is a stream or an iterable cannot be sent twice: its 401 goes back at once (the token is
 *   still invalidated, so the next request gets a fresh one).
 * - Compose it last (`compose(interceptors.redirect(...), undiciAuth(...))`), so that it runs
 *   first and a redirect hop never gains a token: undici's redirect interceptor then drops the
 *   header when a hop leaves the origin, and a 401 from such a hop is not retried. `fetch` follows
 *   redirects itself, one dispatch per hop, so there a hop to an allowed origin is a new request
 *   and gets a token; a hop to a foreign origin never does (and, with `onForeignOrigin: 'throw'`,
 *   fails the fetch: the interceptor cannot tell such a hop from a request of the caller's).
 * - A request without `origin` in its dispatch options (`pool.request({ path })` on a Pool or a
 *   Client, whose own origin an interceptor cannot see) fails with `ConfigurationError`
 *   (`option: 'origin'`) before anything is sent, rather than go out without the user's token.
 * - Every request header is kept as given, repeated names included; only `authorization` is added.
 *
 * Validates `manager` and `options` now, throwing `ConfigurationError` naming the option.
 *
 * @example
 * const dispatcher = new Agent().compose(undiciAuth(tokens, { scope: '42' }));
 * const { statusCode, body } = await request('https://api.test.tryflux.com/users/42/receipts', { dispatcher });
 */
export function undiciAuth(manager: TokenSource, options?: UndiciAuthOptions): Dispatcher.DispatcherComposeInterceptor {
  const { settings } = resolveHttpAuth<Dispatcher.DispatchOptions>('undiciAuth', manager, options);
  const { source, origins } = settings;
  const known: ReadonlySet<string> = new Set(origins.origins);

  return (dispatch) => {
    const route: Route = { dispatch, source };
    return function dispatchWithAuth(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      const pairs = headerPairs(opts.headers);
      if (pairs.some(([name]) => name.toLowerCase() === 'authorization')) return dispatch(opts, handler);
      // undici hands the origin as `url.origin`: an allowed one as it is needs no parse.
      const origin = typeof opts.origin === 'string' && known.has(opts.origin) ? opts.origin : opts.origin === undefined ? undefined : originOf(opts.origin);
      let scope: string | undefined;
      let cached: Token | undefined;
      try {
        // A Pool or Client dispatches without `origin`, and an interceptor cannot see the
        // dispatcher's own: refuse rather than send a request for a user without a token.
        if (origin === undefined) throw unknownOrigin(opts.origin);
        if (!origins.admit(origin)) return dispatch(opts, handler);
        scope = requestScope(settings, undefined, opts);
        cached = source.cachedToken?.(scope);
      } catch (error) {
        queueMicrotask(() => rawCaller(handler, new AbortLink()).onError?.(error as Error));
        return true;
      }
      const request = new AuthorizedRequest(route, opts, handler, { pairs, origin, scope });
      // A cached token goes out in this tick; otherwise the request waits for the token.
      if (cached !== undefined) return request.send(cached, false);
      request.sendWhenReady();
      return true;
    };
  };
}
