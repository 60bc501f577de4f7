/**
 * The emulator's options, their defaults, and their validation. Checked once at start-up with the
 * library's shared helpers, so that a typo or a bad value fails with a message naming the option
 * instead of producing an emulator that behaves subtly wrong in a test.
 */
import { ConfigurationError } from '../errors.js';
import { isLoopbackHost } from '../url.js';
import {
  describe,
  rejectUnknownOptions,
  requireBoolean,
  requireFunction,
  requireNumber,
  requireOptionsObject,
  requireString,
  orDefault,
} from '../validate.js';

/** Options of {@link startEmulator}. Every one is optional. */
export interface EmulatorOptions {
  /**
   * The TCP port. `0` picks a free one, which is what parallel test files want.
   * @default 0
   * @example port: 4010
   */
  port?: number;
  /**
   * The address to listen on. Only loopback addresses are accepted: the emulator hands out tokens
   * for well-known demo credentials, so it must never be reachable from another machine.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * The client id the token endpoint accepts, and the `aud` claim of every token.
   * @default 'flux-demo-client'
   */
  clientId?: string;
  /**
   * The client secret the token endpoint accepts.
   * @default 'flux-demo-secret'
   */
  clientSecret?: string;
  /**
   * Lifetime of each access token, in seconds. Fractional values are allowed, so that tests and
   * demos can watch tokens expire and refresh in a fraction of a second.
   * @default 3600
   * @example expiresIn: 0.5
   */
  expiresIn?: number;
  /**
   * Whether token answers carry a `refresh_token`. Turn it off to exercise a client's fallback to
   * the client-credentials grant.
   * @default true
   */
  issueRefreshTokens?: boolean;
  /**
   * Delay added before every token-endpoint answer, in ms, so that concurrent callers overlap
   * and single-flight or queueing behaviour becomes visible.
   * @default 0
   */
  latency?: number;
  /**
   * The clock, in ms since the epoch. It sets `nbf` and `exp` and decides when the API treats a
   * token as expired, so that tests can move time forward instead of sleeping.
   * @default Date.now
   * @example let t = Date.now(); const emulator = await startEmulator({ now: () => t }); t += 3_600_000;
   */
  now?: () => number;
  /**
   * The `Retry-After` value, in whole seconds, sent by the `429` fault.
   * @default 1
   */
  retryAfterSeconds?: number;
}

/** {@link EmulatorOptions} with every default filled in. */
export interface ResolvedEmulatorOptions {
  port: number;
  host: string;
  clientId: string;
  clientSecret: string;
  expiresIn: number;
  issueRefreshTokens: boolean;
  latency: number;
  now: () => number;
  retryAfterSeconds: number;
}

/** The defaults of {@link EmulatorOptions}, shared by the docs, the CLI and the tests. */
export const EMULATOR_DEFAULTS = Object.freeze({
  port: 0,
  host: '127.0.0.1',
  clientId: 'flux-demo-client',
  clientSecret: 'flux-demo-secret',
  expiresIn: 3600,
  issueRefreshTokens: true,
  latency: 0,
  retryAfterSeconds: 1,
});

/** Ten years: longer lifetimes are refused by clients anyway, and overflow timers. */
const MAX_EXPIRES_IN = 10 * 365 * 24 * 3600;
/** A minute: a longer artificial latency would only trip client timeouts. */
const MAX_LATENCY_MS = 60_000;

const KNOWN_OPTIONS = [
  'port',
  'host',
  'clientId',
  'clientSecret',
  'expiresIn',
  'issueRefreshTokens',
  'latency',
  'now',
  'retryAfterSeconds',
];

/** Validates `options` and fills in the defaults. Throws a {@link ConfigurationError}. */
export function resolveEmulatorOptions(options: unknown): ResolvedEmulatorOptions {
  const o = requireOptionsObject('emulator options', options);
  rejectUnknownOptions('emulator options', o, KNOWN_OPTIONS);
  const d = EMULATOR_DEFAULTS;
  const host = requireString('host', orDefault(o.host, d.host));
  if (!isLoopbackHost(host)) {
    throw new ConfigurationError(
      'host',
      `Expected \`host\` to be a loopback address such as 127.0.0.1, ::1 or localhost, got ${describe(host)}`,
    );
  }
  return {
    port: requireNumber('port', orDefault(o.port, d.port), { min: 0, max: 65_535, integer: true }),
    host,
    clientId: requireString('clientId', orDefault(o.clientId, d.clientId)),
    clientSecret: requireString('clientSecret', orDefault(o.clientSecret, d.clientSecret), true),
    expiresIn: requireNumber('expiresIn', orDefault(o.expiresIn, d.expiresIn), { min: 0.001, max: MAX_EXPIRES_IN }),
    issueRefreshTokens: requireBoolean('issueRefreshTokens', orDefault(o.issueRefreshTokens, d.issueRefreshTokens)),
    latency: requireNumber('latency', orDefault(o.latency, d.latency), { min: 0, max: MAX_LATENCY_MS }),
    now: o.now === undefined ? Date.now : requireFunction<() => number>('now', o.now),
    retryAfterSeconds: requireNumber('retryAfterSeconds', orDefault(o.retryAfterSeconds, d.retryAfterSeconds), {
      min: 0,
      max: 86_400,
      integer: true,
    }),
  };
}
