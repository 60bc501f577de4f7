/**
 * What the got hooks and the fetch wrapper share: the options they both take and their validation,
 * the choice of scope, the header value, and the one step taken after a 401.
 *
 * Both adapters follow the same rules, so the rules live here once:
 * - a token goes only to an allowed origin ({@link OriginPolicy});
 * - an `Authorization` header the caller set is theirs, and is left alone;
 * - after a 401 on a request that carried a managed token, that exact token is invalidated and the
 *   request is sent once more with a fresh one; a second 401 goes back to the caller.
 */
import { ConfigurationError, MissingScopeError } from '../shared/errors.js';
import { resolveOriginPolicy, type OnForeignOrigin, type OriginPolicy } from './origins.js';
import type { Token } from '../endpoint/token.js';
import type { TokenManager } from '../manager/token-manager.js';
import { describe, invalidScope, rejectUnknownOptions, requireOptionsObject, requireString } from '../shared/validate.js';

/**
 * The part of a {@link TokenManager} the adapters use. Any object with these members works, so a
 * wrapper (metrics, a test double) can stand in for the manager. `cachedToken` is optional: with
 * it, `undiciAuth` dispatches a request with a cached token in the same tick; without it, every
 * request waits for `getToken`. (The got, fetch and axios adapters wait in async hooks anyway.)
 */
export type TokenSource = Pick<TokenManager, 'getToken' | 'invalidate' | 'tokenUrl'> & Partial<Pick<TokenManager, 'cachedToken'>>;

/**
 * Which user a request is made for: a fixed user id, `null` for the client-wide token, or a
 * function of the request that returns one of those. A function that returns `undefined` found no
 * user: the request fails with `MissingScopeError` rather than going out with the client-wide
 * token, which acts for every user.
 */
export type ScopeOption<R> = string | null | ((request: R) => string | null | undefined);

/** The options every adapter takes. `R` is what a scope function receives. */
export interface HttpAuthOptions<R> {
  /**
   * The user id whose token is sent, `null` for the client-wide token, or a function of the
   * request that returns one of those. A request with no user (no scope of its own, and none from
   * this option) fails with `MissingScopeError` before anything is sent.
   */
  scope?: ScopeOption<R>;
  /**
   * More origins that may receive tokens, besides the token URL's origin (which is always
   * allowed). Each is a bare origin: `https://host[:port]`, or `http:` on a loopback host.
   * @example allowedOrigins: ['https://files.test.tryflux.com']
   */
  allowedOrigins?: readonly string[];
  /**
   * A request to any other origin is sent without a token (`'omit'`), or fails with
   * `ForeignOriginError` before anything is sent (`'throw'`).
   * @default 'omit'
   */
  onForeignOrigin?: OnForeignOrigin;
}

/** The validated settings an adapter runs with. */
export interface HttpAuthSettings<R> {
  /** The adapter's name, for its errors (`gotAuth`, ...). */
  readonly name: string;
  readonly source: TokenSource;
  readonly scope: ScopeOption<R> | undefined;
  readonly origins: OriginPolicy;
}

const COMMON_KEYS = ['scope', 'allowedOrigins', 'onForeignOrigin'] as const;

/**
 * Validates an adapter's arguments at the call that creates it, so that a typo fails at start-up
 * rather than on the first request. Returns the settings and the raw options, from which the
 * adapter reads its own `extraKeys`.
 */
export function resolveHttpAuth<R>(
  name: string,
  manager: unknown,
  options: unknown,
  extraKeys: readonly string[] = [],
): { settings: HttpAuthSettings<R>; raw: Record<string, unknown> } {
  const source = manager as Partial<TokenSource> | null | undefined;
  if (
    typeof source !== 'object' ||
    source === null ||
    typeof source.getToken !== 'function' ||
    typeof source.invalidate !== 'function' ||
    (source.cachedToken !== undefined && typeof source.cachedToken !== 'function') ||
    !(source.tokenUrl instanceof URL)
  ) {
    throw new ConfigurationError(
      'manager',
      `Expected \`manager\` to be a TokenManager (an object with getToken, invalidate and tokenUrl), got ${describe(manager)}`,
    );
  }
  const raw = requireOptionsObject(`${name} options`, options);
  rejectUnknownOptions(`${name} options`, raw, [...COMMON_KEYS, ...extraKeys]);
  let scope: ScopeOption<R> | undefined;
  if (typeof raw.scope === 'function' || raw.scope === null) scope = raw.scope as ScopeOption<R>;
  else if (raw.scope !== undefined) {
    scope = requireString('scope', raw.scope);
    if (invalidScope(scope) !== undefined) {
      throw new ConfigurationError('scope', `Expected \`scope\` to be well-formed Unicode, got a string with a lone surrogate`);
    }
  }
  const origins = resolveOriginPolicy(source.tokenUrl, raw.allowedOrigins, raw.onForeignOrigin);
  return { settings: { name, source: source as TokenSource, scope, origins }, raw };
}

/**
 * The scope of one request, checked here and not only by the manager, since any TokenSource may
 * stand in for it: a request for a scope that is not a non-empty, well-formed string (see
 * invalidScope) fails with InvalidArgumentError before a token is asked for.
 */
export function checkedScope(scope: unknown): string | undefined {
  const invalid = invalidScope(scope);
  if (invalid !== undefined) throw invalid;
  return scope as string | undefined;
}

/**
 * The scope of one request (undefined: the client-wide token), checked. `own` is the scope the
 * request itself carries (got's `context.scope`, axios's `config.scope`), `undefined` when it has
 * none; then the option decides. `null` anywhere asks for the client-wide token; no user at all
 * throws {@link MissingScopeError}, since the client-wide token would act for every user.
 */
export function requestScope<R>(settings: HttpAuthSettings<R>, own: unknown, request: R): string | undefined {
  const option = settings.scope;
  const chosen = own !== undefined ? own : typeof option === 'function' ? option(request) : option;
  if (chosen === null) return undefined;
  if (chosen === undefined) throw new MissingScopeError(settings.name);
  return checkedScope(chosen);
}

/**
 * Each token's header value, made once: a Flux access token is about a kilobyte, and a new string
 * per request (which undici then copies flat to validate it) is garbage the static header does not
 * make. Checked against the token's `accessToken`, for a token source whose tokens are mutable.
 */
const headerValues = new WeakMap<Token, { accessToken: string; value: string }>();

/** The `Authorization` header value for a token. */
export function bearer(token: Token): string {
  const known = headerValues.get(token);
  if (known !== undefined && known.accessToken === token.accessToken) return known.value;
  const value = `Bearer ${token.accessToken}`;
  headerValues.set(token, { accessToken: token.accessToken, value });
  return value;
}

/**
 * The one step after a 401 on `rejected`: invalidate exactly that token, then get a fresh one.
 * Resolves to undefined when there is none to retry with: the manager handed back the very token
 * the API refused, as it does while the scope waits out its 401-loop cool-down. The caller then
 * returns the 401 as it is, rather than sending the request again with a token known to fail.
 *
 * Invalidation is conditional in the manager: when a concurrent request already replaced the
 * token, nothing is thrown away, and `getToken` returns the replacement. When many requests get a
 * 401 at once, they all wait for the one renewal of the scope. So a storm of N 401s costs one
 * token request, not N.
 */
export async function renewAfter401(
  source: TokenSource,
  scope: string | undefined,
  rejected: Token,
  signal?: AbortSignal,
): Promise<Token | undefined> {
  source.invalidate(scope, rejected);
  const fresh = await source.getToken(scope, signal === undefined ? undefined : { signal });
  return fresh === rejected || fresh.accessToken === rejected.accessToken ? undefined : fresh;
}

/**
 * A body that is read as it is sent, and so cannot be sent twice: a web `ReadableStream`, a Node
 * stream (anything with `pipe`, such as the form-data package's), or an async iterable. A 401 to a
 * request with such a body goes back to the caller: a retry would send it empty or fail.
 */
export function isStreamBody(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) return true;
  const candidate = body as { pipe?: unknown; [Symbol.asyncIterator]?: unknown };
  return typeof candidate.pipe === 'function' || typeof candidate[Symbol.asyncIterator] === 'function';
}
