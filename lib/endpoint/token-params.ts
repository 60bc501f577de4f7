/**
 * The `tokenParams` option: extra form parameters for servers that want them (`audience`,
 * `resource`). Checked at construction, like every option.
 */
import { ConfigurationError } from '../shared/errors.js';
import { describe, requireOptionsObject } from '../shared/validate.js';

/** Form parameters the library sets itself; a `tokenParams` entry may not override them. */
export const RESERVED_TOKEN_PARAMS: readonly string[] = ['grant_type', 'client_id', 'client_secret', 'scope', 'refresh_token'];

/** A frozen copy of `value`: a plain object of string values, none under a reserved name. */
export function requireTokenParams(value: unknown): Readonly<Record<string, string>> {
  if (value === undefined) return Object.freeze({});
  const params = requireOptionsObject('tokenParams', value);
  const out: Record<string, string> = {};
  for (const [name, param] of Object.entries(params)) {
    if (RESERVED_TOKEN_PARAMS.includes(name)) {
      throw new ConfigurationError(
        'tokenParams',
        `Expected \`tokenParams\` to leave out the parameters the library sets (${RESERVED_TOKEN_PARAMS.map((n) => `\`${n}\``).join(', ')}), got \`${name}\``,
      );
    }
    if (typeof param !== 'string') {
      throw new ConfigurationError('tokenParams', `Expected \`tokenParams.${name.slice(0, 40)}\` to be a string, got ${describe(param)}`);
    }
    out[name] = param;
  }
  return Object.freeze(out);
}
