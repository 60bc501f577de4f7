/**
 * Run-time fault switches. A test turns a fault on, for a number of requests or until it is turned
 * off, and checks how the client copes: retries, typed errors, recovery with the cached token.
 */
import { InvalidArgumentError } from '../shared/errors.js';
import { describe } from '../shared/validate.js';

/**
 * Failures of the transport or of the server as a whole. The request is not processed at all: the
 * form is read for the statistics, but no token is issued and no refresh token is spent.
 */
export const TRANSPORT_FAULTS = ['500', '429', 'hang', 'reset', 'bad-json', 'html', 'truncated'] as const;

/**
 * A `200` answer with one field wrong, for a client's response validation. The request is checked
 * as usual (errors are answered as usual), and the refresh token presented is not spent.
 */
export const MALFORMED_SUCCESS_FAULTS = [
  'expires-in-zero',
  'expires-in-negative',
  'expires-in-nan',
  'expires-in-huge',
  'no-access-token',
  'token-type-mac',
] as const;

/** A fault of the token endpoint, or `none`. */
export type TokenFault = (typeof TRANSPORT_FAULTS)[number] | (typeof MALFORMED_SUCCESS_FAULTS)[number] | 'none';

/** Every {@link TokenFault}, for validation, docs and test tables. */
export const TOKEN_FAULTS: readonly TokenFault[] = Object.freeze(['none', ...TRANSPORT_FAULTS, ...MALFORMED_SUCCESS_FAULTS]);

/** A fault of the per-user API: `401` refuses every call (reason `forced`), or `none`. */
export type ApiFault = '401' | 'none';

/** Every {@link ApiFault}. */
export const API_FAULTS: readonly ApiFault[] = Object.freeze(['none', '401']);

/** Options of `setFault` and `setApiFault`. */
export interface FaultOptions {
  /**
   * How many requests the fault applies to; after them it switches itself back to `none`. Omit it
   * to keep the fault until the next `setFault('none')`, e.g. for an outage of a given duration.
   * @example emulator.setFault('500', { count: 2 }) // the third call succeeds
   */
  count?: number;
}

/** One fault switch: the mode, and how many more requests it applies to. */
export class FaultSwitch<Mode extends string> {
  readonly #name: string;
  readonly #modes: readonly Mode[];
  readonly #off: Mode;
  #mode: Mode;
  /** Requests left under `#mode`; Infinity until switched off. Never 0 while a fault is on. */
  #remaining = Infinity;

  constructor(name: string, modes: readonly Mode[], off: Mode) {
    this.#name = name;
    this.#modes = modes;
    this.#off = off;
    this.#mode = off;
  }

  /** Switches to `mode`, validating both arguments (they come from user code). */
  set(mode: unknown, options?: unknown): void {
    if (typeof mode !== 'string' || !this.#modes.includes(mode as Mode)) {
      throw new InvalidArgumentError(
        'mode',
        `Expected the ${this.#name} mode to be one of ${this.#modes.map((m) => `\`${m}\``).join(', ')}, got ${describe(mode)}`,
      );
    }
    if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
      throw new InvalidArgumentError('options', `Expected the ${this.#name} options to be an object, got ${describe(options)}`);
    }
    const count = (options as FaultOptions | undefined)?.count;
    if (count !== undefined && !(typeof count === 'number' && Number.isInteger(count) && count >= 1)) {
      throw new InvalidArgumentError('count', `Expected \`count\` to be an integer from 1 and up, got ${describe(count)}`);
    }
    this.#mode = mode as Mode;
    this.#remaining = count ?? Infinity;
  }

  /** The mode for the request at hand, counting it against `count`. */
  take(): Mode {
    const mode = this.#mode;
    if (mode !== this.#off && --this.#remaining <= 0) {
      this.#mode = this.#off;
      this.#remaining = Infinity;
    }
    return mode;
  }
}
