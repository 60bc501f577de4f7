/**
 * `authFetch`: a fetch that sends the right user's token, for workers that use fetch rather than
 * got. Same rules as the got hooks (see http-auth.ts): allowed origins only, the caller's own
 * `Authorization` header left alone, one retry with a fresh token after a 401.
 *
 * A call with a URL (string or `URL`) and a fixed scope goes to fetch as `(url, init)` with the
 * header added. Any other call (a `Request` input, or a scope function, which needs a `Request`)
 * builds one WHATWG `Request` from its arguments, so the URL, headers and body are read the same
 * way fetch itself would read them.
 */
import { bearer, isStreamBody, renewAfter401, requestScope, resolveHttpAuth, type HttpAuthOptions, type TokenSource } from './http-auth.js';
import { originOf } from './origins.js';
import { requireFunction } from '../shared/validate.js';
import type { Token } from '../endpoint/token.js';

/** The signature of `globalThis.fetch`, which `authFetch` returns. */
export type FetchFunction = typeof globalThis.fetch;

/**
 * A fetch that `authFetch` can send with: `globalThis.fetch`, or undici 6's or 7's `fetch`. Its
 * parameters are left open because each undici major declares its own `Request`, `RequestInit`
 * and `Response` classes, which differ from the global ones by a member or two (so that
 * `typeof fetch` would refuse undici 7's fetch) while they behave the same. The members of the
 * response that `authFetch` reads are named.
 */
export type FetchImplementation = (input: never, init?: never) => Promise<FetchResponseLike>;

/** The members of a fetch response that {@link authFetch} reads. */
export interface FetchResponseLike {
  /** A 401 is retried once with a fresh token. */
  readonly status: number;
  /** A redirected response's 401 is not retried: it came from a hop that carried no token. */
  readonly redirected: boolean;
  /** The URL of the response, after redirects. */
  readonly url: string;
  /** The body, cancelled when a 401 is retried, so that its connection is freed. */
  readonly body: {
    /** Discards the rest of the body. */
    cancel(): Promise<void>;
  } | null;
}

/** Options of {@link authFetch}. */
export interface AuthFetchOptions extends HttpAuthOptions<Request> {
  /**
   * The user id whose token is sent, `null` for the client-wide token, or a function of the
   * request that returns one of those. Without a user, a request to an allowed origin fails with
   * `MissingScopeError` before anything is sent. The function must not read the request's body.
   * @example scope: (request) => /^\/users\/([^/]+)\//.exec(new URL(request.url).pathname)?.[1]
   */
  scope?: string | null | ((request: Request) => string | null | undefined);
  /**
   * The fetch that sends the requests. It receives the caller's URL and init with the header
   * added, or a `Request` (and, when the caller passed non-standard init members such as undici's
   * `dispatcher`, an init holding only those).
   * @default globalThis.fetch, looked up on each call
   */
  fetch?: FetchImplementation;
}

/** The init members the `Request` constructor reads; any other member is passed to fetch as is. */
const REQUEST_INIT_KEYS = new Set([
  'method',
  'headers',
  'body',
  'referrer',
  'referrerPolicy',
  'mode',
  'credentials',
  'cache',
  'redirect',
  'integrity',
  'keepalive',
  'signal',
  'window',
  'duplex',
  'priority',
]);

/** The members of `init` that `new Request()` would drop (undici's `dispatcher`, ...), or undefined. */
function extraInit(init: RequestInit | undefined): RequestInit | undefined {
  if (init === undefined || init === null) return undefined;
  const extra = Object.fromEntries(Object.entries(init).filter(([key]) => !REQUEST_INIT_KEYS.has(key)));
  return Object.keys(extra).length === 0 ? undefined : (extra as RequestInit);
}

/**
 * How the request can be sent a second time:
 * - `rebuild`: build it again from the caller's arguments (no body, or a string, buffer, Blob,
 *   FormData or URLSearchParams body, which the Request constructor reads again each time);
 * - `clone`: the body comes from a `Request` the caller passed, which can be read only once, so a
 *   `clone()` (a tee of the body) is kept for the retry;
 * - `once`: a stream body, which cannot be replayed; a 401 to it goes back to the caller.
 */
function replayOf(input: RequestInfo | URL, init: RequestInit | undefined): 'rebuild' | 'clone' | 'once' {
  const body = init?.body;
  if (body !== undefined && body !== null) return isStreamBody(body) ? 'once' : 'rebuild';
  if (input instanceof Request && input.body !== null) return 'clone';
  return 'rebuild';
}

/** Whether `response` answers the hop that carried the token, not a hop on another origin. */
function answersFirstHop(response: Response, sent: Request | URL): boolean {
  if (!response.redirected || response.url === '') return true;
  return originOf(response.url) === originOf(sent instanceof URL ? sent : sent.url);
}

/**
 * The token to retry a 401 with, or undefined to hand the 401 back as it is (the scope is in its
 * 401-loop cool-down, so the manager has no other token to give). The 401's body is cancelled only
 * when a retry follows, or when the renewal fails, so that the connection is released either way
 * and a 401 handed back can still be read.
 */
async function freshAfter401(
  response: Response,
  source: TokenSource,
  scope: string | undefined,
  token: Token,
  signal: AbortSignal | undefined,
): Promise<Token | undefined> {
  let fresh: Token | undefined;
  try {
    fresh = await renewAfter401(source, scope, token, signal);
  } catch (error) {
    await response.body?.cancel().catch(() => {});
    throw error;
  }
  if (fresh !== undefined) await response.body?.cancel().catch(() => {});
  return fresh;
}

/**
 * A function with fetch's signature that sends a token from `manager` on requests to allowed
 * origins, and retries once with a fresh token after a 401.
 *
 * - The scope is the `scope` option (a user id, `null` for the client-wide token, or a function of
 *   the `Request`); without a user, the call rejects with `MissingScopeError` before anything is sent.
 * - A request that already has an `Authorization` header is sent as it is, and never retried.
 * - A request to a foreign origin is sent without a token, or rejected with `ForeignOriginError`
 *   before anything is sent (`onForeignOrigin: 'throw'`). fetch follows redirects itself, and drops
 *   the `Authorization` header when a redirect leaves the origin (Fetch standard, undici).
 * - After a 401 to a request that carried a managed token, that exact token is invalidated, and
 *   the request is sent once more, rebuilt from the caller's arguments (or from a clone), with a
 *   fresh token. A second 401 is returned. A stream body cannot be sent twice: its 401 is returned
 *   at once (the token is still invalidated, so the next request gets a fresh one).
 *
 * Validates `manager` and `options` now, throwing `ConfigurationError` naming the option.
 *
 * @example
 * const fetchAs42 = authFetch(tokens, { scope: '42' });
 * const res = await fetchAs42('https://api.test.tryflux.com/users/42/receipts');
 */
export function authFetch(manager: TokenSource, options?: AuthFetchOptions): FetchFunction {
  const { settings, raw } = resolveHttpAuth<Request>('authFetch', manager, options, ['fetch']);
  const { source, origins } = settings;
  // Whichever fetch it is, it takes what the global one takes and gives a Response that works alike.
  const givenFetch = raw.fetch === undefined ? undefined : requireFunction<FetchFunction>('fetch', raw.fetch);

  /**
   * The common case, a URL and a fixed scope, without building a `Request`: fetch builds one
   * anyway, and a second one cost about 10% of a loopback request's client CPU (npm run bench).
   * The rules are those of the general path below.
   */
  async function fetchUrl(send: FetchFunction, input: string | URL, init: RequestInit | undefined): Promise<Response> {
    const headers = new Headers(init?.headers);
    let url: URL;
    try {
      // A copy, checked and then sent: a caller may change its own URL object while the token is
      // fetched (a loop reusing one URL), and the token must go where the check said, not there.
      url = new URL(input);
    } catch {
      return send(input, init); // not an absolute URL: fetch gives its own error
    }
    const target = typeof input === 'string' ? input : url;
    if (headers.has('authorization') || !origins.admit(url)) return send(target, init);
    // The option is a user id or null here (a function takes the general path), so no request is read.
    const scope = requestScope(settings, undefined, undefined as unknown as Request);
    const signal = init?.signal ?? undefined;
    const token = await source.getToken(scope, signal === undefined ? undefined : { signal });
    headers.set('authorization', bearer(token));
    const response = await send(target, { ...init, headers });
    if (response.status !== 401 || !answersFirstHop(response, url)) return response;
    if (isStreamBody(init?.body)) {
      source.invalidate(scope, token);
      return response;
    }
    const fresh = await freshAfter401(response, source, scope, token, signal);
    if (fresh === undefined) return response;
    headers.set('authorization', bearer(fresh));
    return send(target, { ...init, headers });
  }

  return async function fetchWithAuth(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const send = givenFetch ?? globalThis.fetch;
    if ((typeof input === 'string' || input instanceof URL) && typeof settings.scope !== 'function') {
      return fetchUrl(send, input, init);
    }
    const extra = extraInit(init);
    const replay = replayOf(input, init);
    // The retry is rebuilt from the URL as it was now, not from a URL object the caller may change.
    const snapshot = input instanceof URL ? input.href : input;
    const request = new Request(snapshot, init);
    if (request.headers.has('authorization') || !origins.admit(request.url)) return send(request, extra);

    const scope = requestScope(settings, undefined, request);
    const token = await source.getToken(scope, { signal: request.signal });
    // Keep an untouched copy for the retry when the body cannot be read again from the arguments.
    const spare = replay === 'clone' ? request.clone() : undefined;
    request.headers.set('authorization', bearer(token));
    const response = await send(request, extra);
    if (response.status !== 401 || !answersFirstHop(response, request)) return response;

    if (replay === 'once') {
      source.invalidate(scope, token);
      return response;
    }
    const fresh = await freshAfter401(response, source, scope, token, request.signal);
    if (fresh === undefined) return response;
    const retry = spare ?? new Request(snapshot, init);
    retry.headers.set('authorization', bearer(fresh));
    return send(retry, extra);
  };
}
