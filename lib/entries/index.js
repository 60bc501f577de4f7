// Written by .ci/entry-guards.mjs: do not edit. Checks that dist/ is built, then loads it.
import { createRequire } from 'node:module';
import { assertBuilt } from './built.cjs';

assertBuilt('index.js');
const built = createRequire(import.meta.url)('../../dist/index.js');

export const {
  AbortError,
  ConfigurationError,
  DEFAULT_CONCURRENCY,
  DEFAULT_COOLDOWN_MS,
  DEFAULT_EXPIRY_MARGIN_MS,
  DEFAULT_MAX_COOLDOWN_MS,
  DEFAULT_MAX_SCOPES,
  DEFAULT_REFRESH_JITTER,
  DEFAULT_REFRESH_WINDOW_MS,
  DEFAULT_RETRY,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_TOKEN_URL,
  FluxTokenError,
  ForeignOriginError,
  InvalidArgumentError,
  InvalidTokenResponseError,
  LruTokenStore,
  MAX_EXPIRES_IN_SECONDS,
  MAX_RESPONSE_BYTES,
  MissingScopeError,
  RESERVED_TOKEN_PARAMS,
  TokenDecodeError,
  TokenEndpoint,
  TokenEndpointError,
  TokenManager,
  TokenManagerClosedError,
  TokenRequestError,
  VERSION,
  authFetch,
  decodeJws,
  expiryFromJws,
} = built;
