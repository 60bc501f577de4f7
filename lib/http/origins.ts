/**
 * The origin allow-list of the HTTP adapters (`gotAuth`, `authFetch`).
 *
 * A bearer token is a password for the user it was issued for: whoever receives it can act as that
 * user until it expires. So the adapters attach it only to requests whose origin (scheme, host and
 * port) is on an explicit list, which always holds the origin of the token URL, and by default
 * holds nothing else. Comparing whole origins, not host names, means that an `http:` downgrade of
 * an allowed `https:` host, or another port on it, is foreign too.
 */
import { ConfigurationError, ForeignOriginError, redactUrl } from '../shared/errors.js';
import { isLoopbackHost } from '../shared/url.js';
import { describe, requireOneOf } from '../shared/validate.js';

/**
 * What to do with a request to an origin outside the allow-list: send it without a token
 * (`'omit'`), or fail it with {@link ForeignOriginError} before anything is sent (`'throw'`).
 */
export type OnForeignOrigin = 'omit' | 'throw';

/** The accepted values of `onForeignOrigin`; the first is the default. */
export const ON_FOREIGN_ORIGIN: readonly OnForeignOrigin[] = ['omit', 'throw'];

/**
 * Parses one entry of `allowedOrigins` into its canonical origin (`https://api.example.com`,
 * lower-case host, default port dropped), or throws a {@link ConfigurationError} naming `option`.
 *
 * Only a bare origin is accepted. A path would suggest that tokens are limited to that path, which
 * they are not; credentials or a query string are almost certainly a pasted URL. `http:` is
 * accepted only on loopback hosts, as for the token URL: a token sent in clear text is a leaked
 * token.
 */
export function normalizeOrigin(option: string, value: unknown): string {
  let url: URL;
  try {
    if (typeof value !== 'string' && !(value instanceof URL)) throw new TypeError('not a string');
    url = new URL(String(value));
  } catch {
    const shown = typeof value === 'string' ? redactUrl(value) : value;
    throw new ConfigurationError(option, `Expected \`${option}\` to be an origin such as \`https://api.example.com\`, got ${describe(shown)}`);
  }
  const extras = [
    url.pathname !== '/' && url.pathname !== '' ? 'a path' : undefined,
    url.search ? 'a query' : undefined,
    url.hash ? 'a fragment' : undefined,
    url.username || url.password ? 'credentials' : undefined,
  ].filter((extra) => extra !== undefined);
  if (url.origin === 'null') {
    throw new ConfigurationError(option, `Expected \`${option}\` to be an origin such as \`https://api.example.com\`, got ${describe(redactUrl(url))}`);
  }
  if (extras.length > 0) {
    // Only the origin is shown: a path (a webhook's), a query or credentials may hold a secret.
    throw new ConfigurationError(
      option,
      `Expected \`${option}\` to be an origin (scheme, host and optional port, with no path, query or credentials) such as \`https://api.example.com\`, got an entry for \`${url.origin}\` that has ${extras.join(' and ')} (not shown: it may hold a secret)`,
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new ConfigurationError(
      option,
      `Expected \`${option}\` to use https: (http: is allowed only on loopback hosts), got ${describe(url.origin)}`,
    );
  }
  return url.origin;
}

/** The origin of an absolute URL, or undefined when it has none (`data:`, `file:`, not a URL). */
export function originOf(url: string | URL): string | undefined {
  try {
    const origin = (typeof url === 'string' ? new URL(url) : url).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/**
 * Where tokens may go, and what happens to a request that goes elsewhere. Immutable once built.
 */
export class OriginPolicy {
  /** Every allowed origin, canonical, the token URL's first. */
  readonly origins: readonly string[];
  /** What a caller's request to another origin gets. */
  readonly onForeignOrigin: OnForeignOrigin;
  /** The same origins, for O(1) checks on every request. */
  readonly #allowed: ReadonlySet<string>;

  constructor(origins: readonly string[], onForeignOrigin: OnForeignOrigin) {
    this.origins = Object.freeze([...new Set(origins)]);
    this.onForeignOrigin = onForeignOrigin;
    this.#allowed = new Set(this.origins);
  }

  /** Whether a token may be sent to `url`. URLs without an origin never get one. */
  allows(url: string | URL | undefined): boolean {
    if (url === undefined) return false;
    // An allowed origin, as an adapter that has already parsed the URL passes it, needs no parse.
    if (typeof url === 'string' && this.#allowed.has(url)) return true;
    const origin = originOf(url);
    return origin !== undefined && this.#allowed.has(origin);
  }

  /**
   * The decision for a request the caller made: true to attach a token, false to send it without
   * one. Throws {@link ForeignOriginError} instead of returning false when `onForeignOrigin` is
   * `'throw'`. Redirect hops are not admitted through here: they are never failed (see the docs).
   */
  admit(url: string | URL | undefined): boolean {
    if (this.allows(url)) return true;
    if (this.onForeignOrigin === 'throw') {
      throw new ForeignOriginError((url === undefined ? undefined : originOf(url)) ?? 'an unknown origin', this.origins);
    }
    return false;
  }
}

/**
 * Builds the policy from the adapter options: the token URL's origin, plus every entry of
 * `allowedOrigins` (which widens the list, never narrows it: the token URL's origin already holds
 * every token). Throws a {@link ConfigurationError} naming the offending option.
 */
export function resolveOriginPolicy(tokenUrl: URL, allowedOrigins: unknown, onForeignOrigin: unknown): OriginPolicy {
  const origins = [tokenUrl.origin];
  if (allowedOrigins !== undefined) {
    if (!Array.isArray(allowedOrigins)) {
      throw new ConfigurationError(
        'allowedOrigins',
        `Expected \`allowedOrigins\` to be an array of origins such as [\`https://api.example.com\`], got ${describe(allowedOrigins)}`,
      );
    }
    allowedOrigins.forEach((value: unknown, i) => origins.push(normalizeOrigin(`allowedOrigins[${i}]`, value)));
  }
  const mode = onForeignOrigin === undefined ? ON_FOREIGN_ORIGIN[0]! : requireOneOf('onForeignOrigin', onForeignOrigin, ON_FOREIGN_ORIGIN);
  return new OriginPolicy(origins, mode);
}
