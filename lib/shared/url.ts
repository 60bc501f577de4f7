/**
 * The token endpoint receives the client secret and hands out bearer tokens, so it must be reached
 * over HTTPS. The one exception is a loopback host, where nothing crosses a network: the emulator,
 * a local proxy, a test server.
 */
import { ConfigurationError, describeUnparsedUrl } from './errors.js';
import { describe } from './validate.js';

/**
 * True for `localhost`, 127.0.0.0/8 and `::1`. Not for `*.localhost`: the system resolver may not
 * map those to loopback, and the client secret would then cross a network in clear text.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost') return true;
  if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
  const v4 = v4mapped ? v4mapped[1]! : host;
  const parts = v4.split('.');
  return parts.length === 4 && parts[0] === '127' && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** Schemes a refused URL may be named by: anything else before a colon may be a secret itself. */
const NAMED_SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:', 'ftp:', 'file:', 'data:', 'mailto:', 'redis:', 'rediss:']);

/**
 * A refused URL by its scheme and host, the scheme only when it is a well-known one: a string such
 * as `hunter2:x y` parses as a URL whose "scheme" is the secret.
 */
function describeRefusedScheme(url: URL): string {
  const scheme = NAMED_SCHEMES.has(url.protocol) ? `scheme \`${url.protocol}\`` : 'a scheme that is not http: or https:';
  return `a URL with ${scheme} ${url.host ? `on host \`${url.host}\`` : 'and no host'}`;
}

/**
 * Parses `value` as an absolute `https:` URL, or `http:` on a loopback host. Anything else throws a
 * {@link ConfigurationError} naming `option`. The message never quotes the value: a string that does
 * not parse is described by its length and scheme (where a secret starts in it cannot be known), and
 * a refused URL by its scheme and host (a path can hold a secret as well as a query string can).
 */
export function requireSecureUrl(option: string, value: unknown): URL {
  let url: URL;
  try {
    if (typeof value !== 'string' && !(value instanceof URL)) throw new TypeError('not a string');
    url = new URL(String(value));
  } catch {
    const got = typeof value === 'string' ? describeUnparsedUrl(value) : describe(value);
    throw new ConfigurationError(option, `Expected \`${option}\` to be an absolute URL, got ${got}`);
  }
  if (url.username || url.password) {
    throw new ConfigurationError(option, `Expected \`${option}\` to hold no credentials; pass them as clientId and clientSecret`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  throw new ConfigurationError(
    option,
    `Expected \`${option}\` to use https: (http: is allowed only on loopback hosts), got ${describeRefusedScheme(url)}`,
  );
}
