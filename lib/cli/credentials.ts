/**
 * Where the CLI finds its credentials and endpoint: flags first, then the environment. Secrets are
 * never printed, not even in an error.
 */
import { DEFAULT_TOKEN_URL } from '../endpoint/token-endpoint.js';
import { UsageError } from './errors.js';
import { FROM_STDIN, readSecret, type SecretInput } from './stdin.js';

/** Flags shared by the commands that talk to a token endpoint. */
export interface EndpointFlags {
  clientId?: string;
  clientSecret?: string;
  tokenUrl?: string;
  timeout?: number;
  retry?: number;
}

/** What `token` and `refresh` need to build a TokenEndpoint. */
export interface ResolvedEndpoint {
  clientId: string;
  clientSecret: string;
  tokenUrl: string;
}

/**
 * Placeholder credentials for a refresh call that sends none (as Flux documents the refresh call):
 * the endpoint client needs values, and unless `--with-client-credentials` is given they are never sent.
 */
const NOT_SENT = 'not-sent';

/**
 * Reads flags, then FLUX_CLIENT_ID, FLUX_CLIENT_SECRET and FLUX_TOKEN_URL. With `required: false`,
 * missing credentials are replaced by placeholders that the caller promises never to send.
 */
export function resolveEndpoint(
  flags: EndpointFlags,
  { env = process.env, required = true }: { env?: NodeJS.ProcessEnv; required?: boolean } = {},
): ResolvedEndpoint {
  const clientId = flags.clientId ?? env.FLUX_CLIENT_ID;
  const clientSecret = flags.clientSecret ?? env.FLUX_CLIENT_SECRET;
  if (required && !clientId) throw new UsageError('missing client id: pass --client-id or set FLUX_CLIENT_ID');
  if (required && !clientSecret) throw new UsageError('missing client secret: pass --client-secret or set FLUX_CLIENT_SECRET');
  return {
    clientId: clientId || NOT_SENT,
    clientSecret: clientSecret || NOT_SENT,
    tokenUrl: flags.tokenUrl ?? env.FLUX_TOKEN_URL ?? DEFAULT_TOKEN_URL,
  };
}

/**
 * The refresh token to spend: `--refresh-token`, read from stdin when it is `-`, else
 * FLUX_REFRESH_TOKEN. Both keep the token out of `ps`, unlike the flag with the token itself.
 */
export async function resolveRefreshToken(
  flag: string | undefined,
  { env = process.env, input }: { env?: NodeJS.ProcessEnv; input?: SecretInput } = {},
): Promise<string> {
  if (flag === FROM_STDIN) return readSecret('a refresh token', input);
  const token = flag ?? env.FLUX_REFRESH_TOKEN;
  if (!token) throw new UsageError('missing refresh token: pass --refresh-token (- reads it from stdin) or set FLUX_REFRESH_TOKEN');
  return token;
}

/**
 * Parses a flag value as a number within bounds, for commander's argParser. A value that is not a
 * number is described by its length, never shown: a shifted command line can put the secret here.
 */
export function numberFlag(name: string, { min = 0, integer = false, max = Number.MAX_SAFE_INTEGER } = {}) {
  return (value: string): number => {
    const n = Number(value);
    const number = value.trim() !== '' && Number.isFinite(n);
    if (!number || n < min || n > max || (integer && !Number.isInteger(n))) {
      const got = number ? String(n) : `a value of ${value.length} character${value.length === 1 ? '' : 's'} that is not a number`;
      throw new UsageError(`${name} expects ${integer ? 'an integer' : 'a number'} from ${min}${max === Number.MAX_SAFE_INTEGER ? ' and up' : ` to ${max}`}, got ${got}`);
    }
    return n;
  };
}
