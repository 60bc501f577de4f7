/**
 * The `Token` value and the strict reading of a token response into one.
 *
 * Validation follows oauth4webapi: every field is checked, and each failure has its own `reason`
 * on an {@link InvalidTokenResponseError}, so that a proxy's HTML page or a half-written body never
 * becomes a token that fails later, somewhere else.
 */
import { inspect } from 'node:util';
import { InvalidTokenResponseError, scrubSecrets, TokenDecodeError } from '../shared/errors.js';
import { claimsOf, type FluxClaims } from './jws.js';
import { checkScopeBinding } from './scope-binding.js';

/**
 * An access token, as handed out by the endpoint client and the manager. Frozen. Its
 * `util.inspect()` and `JSON.stringify()` forms redact `accessToken` and `refreshToken`, so that a
 * token logged by accident leaks nothing; read the fields directly to use them.
 */
export interface Token {
  /** The bearer token to send in `Authorization: Bearer ...`. Secret. */
  readonly accessToken: string;
  /** Always `bearer` (lower-cased), the only type Flux issues and this library accepts. */
  readonly tokenType: 'bearer';
  /**
   * The lifetime, in seconds: from `expires_in`, else from the token's `exp` claim (capped at ten
   * years), else the manager's `defaultExpiresIn`.
   */
  readonly expiresIn: number;
  /** When the request that got this token was sent, in ms since the epoch (conservative). */
  readonly issuedAt: number;
  /** `issuedAt + expiresIn * 1000`: the end of the token's life, in ms since the epoch. */
  readonly expiresAt: number;
  /** The refresh token, when the endpoint returned one. Secret. */
  readonly refreshToken?: string;
  /** The user id the token is restricted to; absent for a client-wide token. */
  readonly scope?: string;
}

const REDACTED = '[redacted]';

function safeView(token: Token): Record<string, unknown> {
  return {
    accessToken: REDACTED,
    tokenType: token.tokenType,
    expiresIn: token.expiresIn,
    issuedAt: token.issuedAt,
    expiresAt: token.expiresAt,
    ...(token.refreshToken === undefined ? {} : { refreshToken: REDACTED }),
    ...(token.scope === undefined ? {} : { scope: token.scope }),
  };
}

/**
 * The one class behind every {@link Token}. A class rather than `Object.create`: all seven fields
 * are set in the constructor, so V8 keeps them inside the object (with `Object.create` three of
 * them spilled into a separate array, about 44 bytes more per cached scope). Its printed forms
 * redact the secrets.
 */
class FrozenToken implements Token {
  readonly accessToken: string;
  readonly tokenType: 'bearer';
  readonly expiresIn: number;
  readonly issuedAt: number;
  readonly expiresAt: number;
  // `declare`: no class-field definition, so an absent field is not a key holding undefined.
  declare readonly refreshToken?: string;
  declare readonly scope?: string;

  constructor(fields: Token) {
    this.accessToken = fields.accessToken;
    this.tokenType = fields.tokenType;
    this.expiresIn = fields.expiresIn;
    this.issuedAt = fields.issuedAt;
    this.expiresAt = fields.expiresAt;
    // V8's slack tracking reserves room inside the object for these two as well.
    if (fields.refreshToken !== undefined) (this as { refreshToken?: string }).refreshToken = fields.refreshToken;
    if (fields.scope !== undefined) (this as { scope?: string }).scope = fields.scope;
    Object.freeze(this);
  }

  toJSON(): Record<string, unknown> {
    return safeView(this);
  }

  [inspect.custom](_depth: number, options: object, inspectFn: typeof inspect = inspect): string {
    return `Token ${inspectFn(safeView(this), options)}`;
  }

  toString(): string {
    return '[Token]';
  }
}

/** Builds a frozen {@link Token} whose printed forms are redacted. */
export function createToken(fields: Token): Token {
  return new FrozenToken(fields);
}

/**
 * `expires_in` values above this (10 years) are refused: they are a server bug, and they would push
 * the expiry arithmetic past what timers and dates can hold. A JWS `exp` further away than this is
 * read as this far away, so that no lifetime, TTL or timer ever becomes huge or infinite.
 */
export const MAX_EXPIRES_IN_SECONDS = 10 * 365 * 24 * 3600;

function readExpiresIn(value: unknown, status: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)) n = Number(value);
  else {
    throw new InvalidTokenResponseError(
      'invalid_expires_in',
      status,
      `expected \`expires_in\` to be a positive number, got a value of type ${typeof value}`,
    );
  }
  if (!Number.isFinite(n) || n <= 0 || n > MAX_EXPIRES_IN_SECONDS) {
    throw new InvalidTokenResponseError(
      'invalid_expires_in',
      status,
      `expected \`expires_in\` to be a number from 0 (exclusive) to ${MAX_EXPIRES_IN_SECONDS}, got ${String(n)}`,
    );
  }
  return n;
}

/**
 * The lifetime the token's own claims give, capped at ten years; undefined when it has no `exp`.
 * `exp − iat` when it has both: both are the server's clock, so an offset between its clock and
 * ours cancels out. Else `exp` against `serverIssuedAt`, the server's clock when the request was
 * sent (see server-clock.ts).
 */
function lifetimeFromJws(claims: FluxClaims | undefined, serverIssuedAt: number, status: number): number | undefined {
  const exp = claims?.exp;
  if (typeof exp !== 'number' || Number.isNaN(exp) || exp <= 0) return undefined;
  const iat = claims?.iat;
  const seconds = typeof iat === 'number' && Number.isFinite(iat) && iat > 0 ? exp - iat : (exp * 1000 - serverIssuedAt) / 1000;
  if (!(seconds > 0)) throw new InvalidTokenResponseError('no_expiry', status, 'the access token\'s `exp` claim is already in the past');
  // `exp: 1e300` is finite, but `1.8e308 * 1000` is Infinity: cap both.
  return Math.min(seconds, MAX_EXPIRES_IN_SECONDS);
}

/**
 * The claims of a JWS access token, undefined for an opaque one. A token that looks like a JWS but
 * cannot be read is refused: neither its user binding nor its expiry can be checked.
 */
function readClaims(accessToken: string, status: number): FluxClaims | undefined {
  try {
    return claimsOf(accessToken);
  } catch (error) {
    if (!(error instanceof TokenDecodeError)) throw error;
    throw new InvalidTokenResponseError('unreadable_jws', status, `the access token looks like a JWS but cannot be read: ${error.message}`);
  }
}

/**
 * Reads a parsed 2xx JSON body into a {@link Token}, or throws {@link InvalidTokenResponseError}.
 * `issuedAt` is when the request was sent; `scope` labels the token with the user it was asked for
 * (undefined: the client-wide token), and the answer must be bound to it unless `checkScope` is false.
 * `secrets` (what the request sent) are cut out of any server text the error shows.
 * The caller has already turned a body holding `error` into a TokenEndpointError.
 */
export function parseTokenResponse(
  body: unknown,
  {
    issuedAt,
    serverIssuedAt = issuedAt,
    scope,
    status = 200,
    defaultExpiresIn,
    checkScope = true,
    requireUserBinding = false,
    secrets = [],
  }: {
    issuedAt: number;
    /** `issuedAt` by the server's clock, against which a JWS `exp` without `iat` is read. */
    serverIssuedAt?: number;
    scope?: string;
    status?: number;
    defaultExpiresIn?: number | undefined;
    checkScope?: boolean;
    /** Refuse an answer for a user that cannot show that user (see `requireUserBinding`). */
    requireUserBinding?: boolean;
    secrets?: readonly string[];
  },
): Token {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidTokenResponseError('not_an_object', status, 'expected a JSON object');
  }
  const json = body as Record<string, unknown>;

  const accessToken = json.access_token;
  if (typeof accessToken !== 'string' || accessToken.length === 0) {
    throw new InvalidTokenResponseError(
      'invalid_access_token',
      status,
      `expected \`access_token\` to be a non-empty string, got ${accessToken === undefined ? 'nothing' : `a value of type ${typeof accessToken}`}`,
    );
  }

  const tokenType = json.token_type;
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') {
    // Server text: scrubbed of what was sent and of the answer's own tokens before it is cut.
    const shown = (text: string) => scrubSecrets(text, [...secrets, accessToken, ...(typeof json.refresh_token === 'string' ? [json.refresh_token] : [])], 40);
    const got = typeof tokenType === 'string' ? JSON.stringify(shown(tokenType)) : `a value of type ${typeof tokenType}`;
    throw new InvalidTokenResponseError('invalid_token_type', status, `expected \`token_type\` to be "bearer", got ${got}`);
  }

  // `null` is read as absent: some servers serialize a missing refresh token that way.
  const refreshToken = json.refresh_token ?? undefined;
  if (refreshToken !== undefined && (typeof refreshToken !== 'string' || refreshToken.length === 0)) {
    throw new InvalidTokenResponseError(
      'invalid_refresh_token',
      status,
      `expected \`refresh_token\`, when present, to be a non-empty string, got a value of type ${typeof refreshToken}`,
    );
  }

  const claims = readClaims(accessToken, status);
  const expiresIn = readExpiresIn(json.expires_in, status) ?? lifetimeFromJws(claims, serverIssuedAt, status) ?? defaultExpiresIn;
  if (expiresIn === undefined) {
    throw new InvalidTokenResponseError(
      'no_expiry',
      status,
      'the answer has no `expires_in`, the access token has no readable `exp` claim, and no `defaultExpiresIn` is set',
    );
  }

  // Last: a well-formed answer for the wrong user, never a malformed one, is a scope mismatch.
  if (checkScope) checkScopeBinding(json, claims, scope, status, requireUserBinding);
  return createToken({
    accessToken,
    tokenType: 'bearer',
    expiresIn,
    issuedAt,
    expiresAt: issuedAt + expiresIn * 1000,
    ...(typeof refreshToken === 'string' ? { refreshToken } : {}),
    ...(scope === undefined ? {} : { scope }),
  });
}
