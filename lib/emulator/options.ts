/**
 * The emulator's options, their defaults, and their validation. Checked once at start-up with the
 * library's shared helpers, so that a typo or a bad value fails with a message naming the option
 * instead of producing an emulator that behaves subtly wrong in a test.
 */
import { KeyObject } from 'node:crypto';
import { ConfigurationError } from '../shared/errors.js';
import { isLoopbackHost } from '../shared/url.js';
import {
  describe,
  rejectUnknownOptions,
  requireBoolean,
  requireFunction,
  requireNumber,
  requireOneOf,
  requireOptionsObject,
  requireString,
  orDefault,
} from '../shared/validate.js';

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
  /**
   * How clients may authenticate: in the form body (`client_secret_post`, as Flux documents it),
   * with HTTP Basic (`client_secret_basic`, RFC 6749 §2.3.1), or either. A request that uses two
   * methods at once is refused with `invalid_request`, as RFC 6749 §2.3 requires.
   * @default ['client_secret_post', 'client_secret_basic']
   * @example clientAuthMethods: ['client_secret_basic'] // a Basic-only client
   */
  clientAuthMethods?: readonly EmulatorClientAuthMethod[];
  /**
   * Require client authentication on the refresh grant (RFC 6749 §6, for confidential clients), and
   * refuse a refresh without it with status 400 and this error: `invalid_client` as
   * `@node-oauth/oauth2-server` does, or `invalid_request` as `oidc-provider` does. Off by default:
   * Flux's documented refresh call carries no client credentials.
   */
  refreshRequiresClientAuth?: 'invalid_client' | 'invalid_request';
  /**
   * The status of an `invalid_client` answer: 401 (RFC 6749 §5.2 when the client used Basic), or
   * 400, which several servers send in every case.
   * @default 401
   */
  invalidClientStatus?: 400 | 401;
  /**
   * Whether token answers carry a `scope` field (the user id the token is for): `echo` adds it,
   * `omit` leaves it out, as Flux does.
   * @default 'omit'
   */
  answerScope?: 'omit' | 'echo';
  /**
   * What a refresh does to the user a token is for: `keep` it (correct), `drop` it (the new token
   * is client-wide, as some servers do when the request names no scope), or `change` it to another
   * user (a server or proxy bug). For testing a client's scope binding.
   * @default 'keep'
   */
  refreshScope?: 'keep' | 'drop' | 'change';
  /**
   * Leave `expires_in` out of token answers (RFC 6749 only recommends it).
   * @default false
   */
  omitExpiresIn?: boolean;
  /**
   * How far the emulated server's clock is off ours, in ms (negative: behind). It sets the `Date`
   * header of every answer and the `nbf` and `exp` of every token, and the API judges expiry by
   * it, as a server whose clock is off would. For testing a client's handling of clock skew.
   * @default 0
   * @example clockOffset: -3_600_000 // an hour behind
   */
  clockOffset?: number;
  /**
   * The HTTP status of every RFC 6749 §5.2 refusal of the token endpoint (`invalid_grant`,
   * `invalid_client`, ...), in place of 400 or 401: 200, as GitHub answers a bad refresh token,
   * or 403, as some gateways do. Off by default: each refusal has its RFC status.
   * @example refusalStatus: 200
   */
  refusalStatus?: EmulatorRefusalStatus;
  /**
   * Issue opaque access tokens (random strings with no readable claims) instead of Flux-style
   * JWS. With `omitExpiresIn`, a client then has no way to know the lifetime but its own default.
   * @default false
   */
  opaqueTokens?: boolean;
  /**
   * The RSA private key (2048 bits or more) that signs the tokens, instead of a key pair made at
   * start-up. Making one takes 100 to 300 ms of CPU, so a test suite that starts an emulator per
   * test can make one key and pass it to each. Emulators that share a key and a `clientId` accept
   * each other's tokens.
   * @example
   * const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey; // from node:crypto, once
   * const emulator = await startEmulator({ signingKey });
   */
  signingKey?: KeyObject;
}

/** The statuses {@link EmulatorOptions.refusalStatus} may give a refusal. */
export type EmulatorRefusalStatus = 200 | 400 | 401 | 403;

/** A client authentication method the emulator accepts. */
export type EmulatorClientAuthMethod = 'client_secret_post' | 'client_secret_basic';

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
  clientAuthMethods: readonly EmulatorClientAuthMethod[];
  refreshRequiresClientAuth: 'invalid_client' | 'invalid_request' | undefined;
  invalidClientStatus: 400 | 401;
  answerScope: 'omit' | 'echo';
  refreshScope: 'keep' | 'drop' | 'change';
  omitExpiresIn: boolean;
  opaqueTokens: boolean;
  clockOffset: number;
  refusalStatus: EmulatorRefusalStatus | undefined;
  signingKey: KeyObject | undefined;
}

/** The defaults of {@link EmulatorOptions}, shared by the docs, the CLI and the tests. */
export const EMULATOR_DEFAULTS = Object.freeze({
  /** The default of {@link EmulatorOptions.port}. */
  port: 0,
  /** The default of {@link EmulatorOptions.host}. */
  host: '127.0.0.1',
  /** The default of {@link EmulatorOptions.clientId}. */
  clientId: 'flux-demo-client',
  /** The default of {@link EmulatorOptions.clientSecret}. */
  clientSecret: 'flux-demo-secret',
  /** The default of {@link EmulatorOptions.expiresIn}. */
  expiresIn: 3600,
  /** The default of {@link EmulatorOptions.issueRefreshTokens}. */
  issueRefreshTokens: true,
  /** The default of {@link EmulatorOptions.latency}. */
  latency: 0,
  /** The default of {@link EmulatorOptions.retryAfterSeconds}. */
  retryAfterSeconds: 1,
  /** The default of {@link EmulatorOptions.clientAuthMethods}. */
  clientAuthMethods: Object.freeze(['client_secret_post', 'client_secret_basic'] as const),
  /** The default of {@link EmulatorOptions.invalidClientStatus}. */
  invalidClientStatus: 401,
  /** The default of {@link EmulatorOptions.answerScope}. */
  answerScope: 'omit',
  /** The default of {@link EmulatorOptions.refreshScope}. */
  refreshScope: 'keep',
  /** The default of {@link EmulatorOptions.omitExpiresIn}. */
  omitExpiresIn: false,
  /** The default of {@link EmulatorOptions.opaqueTokens}. */
  opaqueTokens: false,
  /** The default of {@link EmulatorOptions.clockOffset}. */
  clockOffset: 0,
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
  'clientAuthMethods',
  'refreshRequiresClientAuth',
  'invalidClientStatus',
  'answerScope',
  'refreshScope',
  'omitExpiresIn',
  'opaqueTokens',
  'clockOffset',
  'refusalStatus',
  'signingKey',
];

const AUTH_METHODS: readonly EmulatorClientAuthMethod[] = ['client_secret_post', 'client_secret_basic'];

function requireAuthMethods(value: unknown): readonly EmulatorClientAuthMethod[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((m) => !AUTH_METHODS.includes(m as EmulatorClientAuthMethod))) {
    throw new ConfigurationError(
      'clientAuthMethods',
      `Expected \`clientAuthMethods\` to be a non-empty array of ${AUTH_METHODS.map((m) => `\`${m}\``).join(', ')}, got ${describe(value)}`,
    );
  }
  return Object.freeze([...new Set(value as EmulatorClientAuthMethod[])]);
}

function requireStatus(value: unknown): 400 | 401 {
  if (value !== 400 && value !== 401) {
    throw new ConfigurationError('invalidClientStatus', `Expected \`invalidClientStatus\` to be 400 or 401, got ${describe(value)}`);
  }
  return value;
}

function requireRefusalStatus(value: unknown): EmulatorRefusalStatus {
  if (value !== 200 && value !== 400 && value !== 401 && value !== 403) {
    throw new ConfigurationError('refusalStatus', `Expected \`refusalStatus\` to be 200, 400, 401 or 403, got ${describe(value)}`);
  }
  return value;
}

/** The smallest RSA modulus a signing key may have, in bits: what the emulator makes itself. */
const MIN_SIGNING_KEY_BITS = 2048;

/** An RSA private key of at least 2048 bits. The message never shows the value, which may be a key. */
function requireSigningKey(value: unknown): KeyObject {
  const expected = `Expected \`signingKey\` to be an RSA private KeyObject of at least ${MIN_SIGNING_KEY_BITS} bits (from node:crypto's generateKeyPairSync or createPrivateKey)`;
  if (!(value instanceof KeyObject)) {
    const given = typeof value === 'string' ? 'a string (a PEM text? pass createPrivateKey(pem))' : describe(value, true);
    throw new ConfigurationError('signingKey', `${expected}, got ${given}`);
  }
  const bits = value.asymmetricKeyDetails?.modulusLength;
  if (value.type !== 'private' || value.asymmetricKeyType !== 'rsa' || bits === undefined || bits < MIN_SIGNING_KEY_BITS) {
    const kind = value.type === 'secret' ? 'secret' : [value.type, value.asymmetricKeyType].filter(Boolean).join(' ');
    throw new ConfigurationError('signingKey', `${expected}, got a ${kind} key${bits === undefined ? '' : ` of ${bits} bits`}`);
  }
  return value;
}

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
  const clockOffset = requireNumber('clockOffset', orDefault(o.clockOffset, d.clockOffset), {
    min: -MAX_EXPIRES_IN * 1000,
    max: MAX_EXPIRES_IN * 1000,
  });
  const baseNow = o.now === undefined ? Date.now : requireFunction<() => number>('now', o.now);
  return {
    port: requireNumber('port', orDefault(o.port, d.port), { min: 0, max: 65_535, integer: true }),
    host,
    clientId: requireString('clientId', orDefault(o.clientId, d.clientId)),
    clientSecret: requireString('clientSecret', orDefault(o.clientSecret, d.clientSecret), true),
    expiresIn: requireNumber('expiresIn', orDefault(o.expiresIn, d.expiresIn), { min: 0.001, max: MAX_EXPIRES_IN }),
    issueRefreshTokens: requireBoolean('issueRefreshTokens', orDefault(o.issueRefreshTokens, d.issueRefreshTokens)),
    latency: requireNumber('latency', orDefault(o.latency, d.latency), { min: 0, max: MAX_LATENCY_MS }),
    // The emulated server's own clock: every instant it reads is off by `clockOffset`.
    now: clockOffset === 0 ? baseNow : () => baseNow() + clockOffset,
    retryAfterSeconds: requireNumber('retryAfterSeconds', orDefault(o.retryAfterSeconds, d.retryAfterSeconds), {
      min: 0,
      max: 86_400,
      integer: true,
    }),
    clientAuthMethods: requireAuthMethods(orDefault(o.clientAuthMethods, d.clientAuthMethods)),
    refreshRequiresClientAuth:
      o.refreshRequiresClientAuth === undefined
        ? undefined
        : requireOneOf('refreshRequiresClientAuth', o.refreshRequiresClientAuth, ['invalid_client', 'invalid_request'] as const),
    invalidClientStatus: requireStatus(orDefault(o.invalidClientStatus, d.invalidClientStatus)),
    answerScope: requireOneOf('answerScope', orDefault(o.answerScope, d.answerScope), ['omit', 'echo'] as const),
    refreshScope: requireOneOf('refreshScope', orDefault(o.refreshScope, d.refreshScope), ['keep', 'drop', 'change'] as const),
    omitExpiresIn: requireBoolean('omitExpiresIn', orDefault(o.omitExpiresIn, d.omitExpiresIn)),
    opaqueTokens: requireBoolean('opaqueTokens', orDefault(o.opaqueTokens, d.opaqueTokens)),
    clockOffset,
    refusalStatus: o.refusalStatus === undefined ? undefined : requireRefusalStatus(o.refusalStatus),
    signingKey: o.signingKey === undefined ? undefined : requireSigningKey(o.signingKey),
  };
}
