/**
 * `flux-token-manager/got`: hooks that make any got 14 instance send the right user's token.
 *
 * ```ts
 * import got from 'got';
 * import { gotAuth } from 'flux-token-manager/got';
 * const flux = got.extend(gotAuth(tokens), { prefixUrl: 'https://api.test.tryflux.com' });
 * await flux.get('users/42/receipts', { context: { scope: '42' } }).json();
 * ```
 *
 * Only got's types are imported, so the hooks bind to no particular copy of got: they work with
 * the user's own instance, whatever its other options and hooks, and through chains of `extend`.
 *
 * State travels with the request, in `options.context` under a private symbol (see {@link Mark}),
 * because got clones the options for every redirect hop, retry and page of `got.paginate`, and
 * `context` is the one place that follows every clone.
 */
import type { NormalizedOptions } from 'got';
import { bearer, isStreamBody, renewAfter401, requestScope, resolveHttpAuth, type HttpAuthOptions, type TokenSource } from './http-auth.js';
import type { Token } from '../endpoint/token.js';

export type { TokenSource } from './http-auth.js';
export type { OnForeignOrigin } from './origins.js';
export { ForeignOriginError, MissingScopeError } from '../shared/errors.js';

/**
 * Options of {@link gotAuth}.
 *
 * The scope of a request is `options.context.scope` when the request sets it, otherwise this
 * `scope` option; `null` in either asks for the client-wide token, and neither fails the request
 * with `MissingScopeError`.
 */
export interface GotAuthOptions extends HttpAuthOptions<NormalizedOptions> {
  /**
   * The user id whose token is sent, `null` for the client-wide token, or a function of got's
   * normalized options that returns one of those. A request's own `context.scope` (a user id, or
   * `null`) takes precedence. A request with neither fails with `MissingScopeError` before
   * anything is sent: a typo such as `context: { scop: '42' }` never sends the client-wide token.
   * @example scope: (options) => /^\/users\/([^/]+)\//.exec(options.url?.pathname ?? '')?.[1]
   */
  scope?: string | null | ((options: NormalizedOptions) => string | null | undefined);
}

/** Where a request keeps what the hooks know about it. Private: no other code can collide with it. */
const MARK = Symbol('flux-token-manager/got');

/**
 * What the hooks know about one hop of one request. Replaced, never mutated, so that clones made
 * for other requests (the next page of `got.paginate`) never see a later change.
 */
interface Mark {
  /** The scope the token was asked for. */
  readonly scope: string | undefined;
  /** The managed token this hop carries; undefined when it carries none (foreign, or the caller's own header). */
  readonly token: Token | undefined;
  /** The exact header value set with `token`, which tells a header we set from one the caller set. */
  readonly header: string | undefined;
  /** True on the one retry after a 401: a 401 to it goes back to the caller. Never reset by a retry. */
  readonly retried: boolean;
  /** True once the request followed a redirect: later hops and their retries never gain a token. */
  readonly redirected: boolean;
}

/** got's headers: the same type in got 14, 15 and 16. */
export type GotHeadersLike = Record<string, string | string[] | undefined>;


/**
 * The members of got's request options that the hooks read and write. got 14, 15 and 16 each
 * declare their own `Options` class (with private members, so that one major's is not another's),
 * while these members are the same in all three: so the hooks are typed by these members alone,
 * and `got.extend(gotAuth(tokens))` type-checks against whichever got the caller has.
 */
export interface GotOptionsLike {
  /** got's per-request context: where a request names its user (`context.scope`), and where the hooks keep their state. */
  context: Record<string, unknown>;
  /** The request's headers: the hooks set and remove `Authorization` here. */
  headers: GotHeadersLike;
  /** The request's URL, whose origin decides whether it may carry a token. */
  url?: string | URL;
  /** The request's abort signal, passed on to the token request so that an abort ends the wait. */
  signal?: AbortSignal;
  /** Declared by got 14 and 15; present at run time in got 16 too. */
  isStream?: boolean;
  /** The request's body: one that is a stream cannot be sent again after a 401. */
  body?: unknown;
}

/** The members of got's response that the hooks read. */
export interface GotResponseLike {
  /** A 401 is retried once with a fresh token. */
  statusCode: number;
  /** The request that got this response, whose options tell which token it carried. */
  request: {
    /** The options of that request. */
    options: GotOptionsLike;
  };
}

/** The members of got's `RequestError` that the hooks read. */
export interface GotErrorLike {
  /** The failed request's options, whose managed token is redacted before the error reaches you. */
  options?: unknown;
  /** The response, when there was one. */
  response?: {
    /** Its HTTP status. */
    statusCode: number;
  };
}

/**
 * What {@link gotAuth} returns: got extend options holding four hooks, typed structurally (see
 * {@link GotOptionsLike}) so that any got from 14 to 16 accepts them.
 */
export interface GotAuthExtendOptions {
  /** The hooks, merged by `got.extend` with the instance's own. */
  hooks: {
    /** Sets `Authorization: Bearer` for the request's user, on an allowed origin only. */
    beforeRequest: ((options: GotOptionsLike, context: { retryCount: number }) => Promise<void>)[];
    /** Drops the token on a redirect: no later hop of the request carries one. */
    beforeRedirect: ((updatedOptions: object) => void)[];
    /** Retries a 401 once with a fresh token (never during the 401-loop cool-down). */
    afterResponse: (<R extends GotResponseLike>(
      response: R,
      retryWithMergedOptions: (options: { headers: Record<string, string>; preserveHooks: boolean }) => R,
    ) => Promise<R>)[];
    /** Replaces a managed token in the error's options by `Bearer [redacted]`. */
    beforeError: (<E extends GotErrorLike>(error: E) => E)[];
  };
}

/** The two members of got's options (normalized or not) that the helpers below read. */
type Carrier = Pick<GotOptionsLike, 'context' | 'headers'>;

function markOf(options: Carrier): Mark | undefined {
  return (options.context as Record<symbol, unknown>)[MARK] as Mark | undefined;
}

function setMark(options: Carrier, mark: Mark): void {
  (options.context as Record<symbol, unknown>)[MARK] = mark;
}

/** What a got error shows in place of a managed token (see the beforeError hook). */
const REDACTED = 'Bearer [redacted]';

/** The Authorization header, whatever case a hook wrote its name in. */
function authorizationOf(headers: GotHeadersLike): string | string[] | undefined {
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() === 'authorization') return headers[name];
  }
  return undefined;
}

function removeAuthorization(headers: GotHeadersLike): void {
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() === 'authorization') delete headers[name];
  }
}

/** Whether the request behind `options` carried a token this adapter attached, and which. */
function carried(options: Carrier): Mark | undefined {
  const mark = markOf(options);
  if (mark?.token === undefined || authorizationOf(options.headers) !== mark.header) return undefined;
  return mark;
}

/**
 * got extend options that send a token from `manager` on every request to an allowed origin, and
 * retry once with a fresh token after a 401.
 *
 * - `beforeRequest` awaits `manager.getToken(scope)` and sets `authorization: Bearer <token>`. The
 *   scope is the request's `context.scope`, else the `scope` option (`null`: client-wide), else
 *   the request fails with `MissingScopeError` before anything is sent. A
 *   header the caller set is left alone, and such a request is never retried on a 401.
 * - A request to a foreign origin gets no token (or fails with `ForeignOriginError`, with
 *   `onForeignOrigin: 'throw'`). A redirect hop never gains a token; one that leaves the allowed
 *   origins loses it, even where got itself would keep it (an `https:` to `http:` downgrade).
 * - `afterResponse` handles a 401 to a request that carried a managed token: it invalidates that
 *   exact token (a token another request already renewed is kept), and retries once, through
 *   `retryWithMergedOptions`, with a fresh token. The retry is marked, so a second 401 goes back as
 *   it is. Concurrent 401s of one scope share one renewal.
 * - Streams (`got.stream`) get the token too, but got runs no `afterResponse` hook for them, so a
 *   401 is not retried: `beforeError` invalidates the token, and the next request gets a fresh one.
 *   The same goes for a request whose body is a stream (read once, as it was sent): its 401 goes
 *   back as it is, and the token is invalidated.
 * - got's errors hold the request options; `beforeError` replaces a managed token there with
 *   `Bearer [redacted]`, so that a logged error leaks no token.
 *
 * Validates `manager` and `options` now, throwing `ConfigurationError` naming the option.
 *
 * @example
 * const flux = got.extend(gotAuth(tokens), { prefixUrl: 'https://api.test.tryflux.com' });
 * await flux.get('users/42/receipts', { context: { scope: '42' } }).json();
 * @example
 * // One instance per user, or a scope read from the URL:
 * const as42 = got.extend(gotAuth(tokens, { scope: '42' }));
 */
export function gotAuth(manager: TokenSource, options?: GotAuthOptions): GotAuthExtendOptions {
  const { settings } = resolveHttpAuth<NormalizedOptions>('gotAuth', manager, options);
  const { source, origins } = settings;
  /** The options objects got built for redirect hops; got hands the same object to beforeRequest. */
  const redirectHops = new WeakSet<object>();

  const beforeRequest: GotAuthExtendOptions['hooks']['beforeRequest'][number] = async (options, { retryCount }) => {
    const previous = markOf(options);
    const header = authorizationOf(options.headers);
    const ours = header !== undefined && previous?.header !== undefined && header === previous.header;
    const redirected = redirectHops.has(options) || (retryCount > 0 && previous?.redirected === true);
    if (header !== undefined && !ours) {
      // The caller's own header (or another hook's): theirs to manage, and never retried here.
      setMark(options, { scope: undefined, token: undefined, header: undefined, retried: false, redirected });
      return;
    }
    if (redirected) {
      // The server chose this URL. Keep a token got kept only where tokens may go; add none.
      const keep = ours && origins.allows(options.url);
      if (ours && !keep) removeAuthorization(options.headers);
      setMark(options, {
        scope: previous?.scope,
        token: keep ? previous?.token : undefined,
        header: keep ? previous?.header : undefined,
        retried: previous?.retried ?? false,
        redirected: true,
      });
      return;
    }
    if (ours) removeAuthorization(options.headers); // a clone's token: replaced below, or dropped
    setMark(options, { scope: undefined, token: undefined, header: undefined, retried: false, redirected: false });
    if (!origins.admit(options.url)) return;
    // got hands every hook its full normalized options; the scope function is typed with them.
    const scope = requestScope(settings, options.context.scope, options as unknown as NormalizedOptions);
    const token = await source.getToken(scope, options.signal === undefined ? undefined : { signal: options.signal });
    const value = bearer(token);
    options.headers.authorization = value;
    setMark(options, {
      scope,
      token,
      header: value,
      // A retry count above 0 is got's retry (or ours) of this same request; 0 is a new request.
      retried: retryCount > 0 && previous?.retried === true,
      redirected: false,
    });
  };

  const beforeRedirect: GotAuthExtendOptions['hooks']['beforeRedirect'][number] = (updatedOptions) => {
    redirectHops.add(updatedOptions);
  };

  const afterResponse: GotAuthExtendOptions['hooks']['afterResponse'][number] = async (response, retryWithMergedOptions) => {
    if (response.statusCode !== 401) return response;
    const options = response.request.options;
    const mark = carried(options);
    if (mark === undefined || mark.retried) return response;
    // A stream body was read as it was sent: got would refuse the retry. The 401 goes back, and
    // the refused token is not handed out again.
    if (isStreamBody(options.body)) {
      source.invalidate(mark.scope, mark.token!);
      return response;
    }
    const fresh = await renewAfter401(source, mark.scope, mark.token!, options.signal);
    // No fresh token (the scope is in its 401-loop cool-down): the 401 goes back without a resend.
    if (fresh === undefined) return response;
    const value = bearer(fresh);
    setMark(options, { ...mark, token: fresh, header: value, retried: true });
    // preserveHooks: later afterResponse hooks (the user's) see the retried response; the mark
    // above stops this hook from retrying it again, which is the loop got's docs warn about.
    return retryWithMergedOptions({ headers: { authorization: value }, preserveHooks: true });
  };

  const beforeError: GotAuthExtendOptions['hooks']['beforeError'][number] = (error) => {
    const options = error.options as GotOptionsLike | undefined;
    const mark = options === undefined ? undefined : carried(options);
    if (options === undefined || mark === undefined) return error;
    // Streams run no afterResponse hook: at least stop handing out the token the API refused.
    if (options.isStream && error.response?.statusCode === 401) source.invalidate(mark.scope, mark.token!);
    // got's errors carry the request options, which loggers serialize: redact our token there. The
    // redacted value stays "ours", so `got(error.options)` still sends a fresh token.
    options.headers.authorization = REDACTED;
    setMark(options, { ...mark, token: undefined, header: REDACTED });
    return error;
  };

  return {
    hooks: {
      beforeRequest: [beforeRequest],
      beforeRedirect: [beforeRedirect],
      afterResponse: [afterResponse],
      beforeError: [beforeError],
    },
  };
}

