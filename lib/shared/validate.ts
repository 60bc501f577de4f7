/**
 * Option checks shared by every constructor. Each throws a {@link ConfigurationError} whose message
 * names the option, what it expects and what it got, in the manner of p-queue:
 * ``Expected `concurrency` to be an integer from 1 and up, got `0` (number)``.
 * Secret options are described by type only, never by value.
 */
import { ConfigurationError, InvalidArgumentError } from './errors.js';

/** A short, safe rendering of a value for an error message. */
export function describe(value: unknown, secret = false): string {
  if (value === null) return '`null`';
  if (value === undefined) return '`undefined`';
  const type = Array.isArray(value) ? 'array' : typeof value;
  if (secret) return `a value of type ${type}${typeof value === 'string' ? ` and length ${value.length}` : ''}`;
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return `\`${JSON.stringify(shown)}\` (string)`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `\`${String(value)}\` (${type})`;
  }
  return `a value of type ${type}`;
}

function fail(option: string, expected: string, value: unknown, secret = false): never {
  throw new ConfigurationError(option, `Expected \`${option}\` to be ${expected}, got ${describe(value, secret)}`);
}

/**
 * `value`, or `fallback` when the option was left out. Only `undefined` means "left out": a `null`
 * goes on to the check and fails there with a message, rather than silently taking the default.
 */
export function orDefault(value: unknown, fallback: unknown): unknown {
  return value === undefined ? fallback : value;
}

/** A non-empty string. With `secret`, the value is never echoed. */
export function requireString(option: string, value: unknown, secret = false): string {
  if (typeof value !== 'string' || value.length === 0) fail(option, 'a non-empty string', value, secret);
  return value;
}

/** A finite number within [min, max], or an integer when `integer` is set. */
export function requireNumber(
  option: string,
  value: unknown,
  { min = 0, max = Number.MAX_SAFE_INTEGER, integer = false }: { min?: number; max?: number; integer?: boolean } = {},
): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= min &&
    value <= max &&
    (!integer || Number.isInteger(value));
  if (!ok) {
    const kind = integer ? 'an integer' : 'a finite number';
    const range = max === Number.MAX_SAFE_INTEGER ? `from ${min} and up` : `from ${min} to ${max}`;
    fail(option, `${kind} ${range}`, value);
  }
  return value as number;
}

/** A boolean. */
export function requireBoolean(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(option, 'a boolean', value);
  return value;
}

/** One of a fixed set of strings. */
export function requireOneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    fail(option, `one of ${allowed.map((a) => `\`${a}\``).join(', ')}`, value);
  }
  return value as T;
}

/** A function. */
export function requireFunction<T>(option: string, value: unknown): T {
  if (typeof value !== 'function') fail(option, 'a function', value);
  return value as T;
}

/** A plain options object (or undefined, which reads as `{}`). */
export function requireOptionsObject(name: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(name, 'an options object', value);
  return value as Record<string, unknown>;
}

/**
 * Rejects option names that are not known, so that a typo such as `maxScope` fails loudly instead
 * of silently falling back to a default.
 */
export function rejectUnknownOptions(name: string, options: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new ConfigurationError(
        key,
        `Unknown option \`${key}\` in ${name} (known options: ${known.map((k) => `\`${k}\``).join(', ')})`,
      );
    }
  }
}

/**
 * Checks the options of one call (`{ signal?, ... }`) before anything is sent, for the endpoint's
 * requests and the manager's `getToken`. Without it, a non-object (`42`)
 * read as "no options" and asked for a client-wide token, `null` threw a TypeError synchronously,
 * and a `signal` that is not an AbortSignal failed only after the request had been sent: that
 * request then ran on unobserved, and its failure (got's error, which holds the form with the
 * client secret) became an unhandled rejection. A signal is recognised by its shape, so that one
 * from another realm (a vm context, a worker's polyfill) is accepted. Values are described by type
 * only: a caller who passes the refresh token itself (`refresh(token)`) must not see it echoed.
 */
export function invalidRequestOptions(options: unknown): InvalidArgumentError | undefined {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    return new InvalidArgumentError('options', `Expected \`options\` to be an object or undefined, got ${describe(options, true)}`);
  }
  const signal = (options as { signal?: unknown }).signal as Partial<AbortSignal> | null | undefined;
  if (
    signal !== undefined &&
    (typeof signal !== 'object' ||
      signal === null ||
      typeof signal.aborted !== 'boolean' ||
      typeof signal.addEventListener !== 'function' ||
      typeof signal.removeEventListener !== 'function')
  ) {
    return new InvalidArgumentError('signal', `Expected \`signal\` to be an AbortSignal or undefined, got ${describe(signal, true)}`);
  }
  return undefined;
}

/** `String.prototype.isWellFormed` (Node 20), which the ES2023 typings do not declare yet. */
function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * Checks the scope (user id) of one call: undefined (the client-wide token), or a non-empty string
 * of well-formed Unicode. A lone surrogate (`'bob\uD800'`) is sent as U+FFFD, so two user ids
 * would share one token, and one key in a shared store: it is refused, never repaired.
 */
export function invalidScope(scope: unknown): InvalidArgumentError | undefined {
  if (scope === undefined) return undefined;
  if (typeof scope !== 'string' || scope.length === 0) {
    return new InvalidArgumentError('scope', 'Expected `scope` to be a non-empty string (a user id) or undefined (the client-wide token)');
  }
  if (!isWellFormed(scope)) {
    return new InvalidArgumentError(
      'scope',
      'Expected `scope` to be well-formed Unicode, got a string with a lone surrogate (it would be sent as U+FFFD, like another user id)',
    );
  }
  return undefined;
}
