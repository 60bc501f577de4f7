/**
 * flux-token-manager: OAuth2 tokens for backend workers that call the Flux API on behalf of many users.
 * This file only exports; each piece lives in its own module (see docs/architecture.md).
 */
export {
  TokenEndpoint,
  DEFAULT_TOKEN_URL,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_RETRY,
  MAX_RESPONSE_BYTES,
  type TokenEndpointOptions,
  type RequestOptions,
  type ClientCredentialsOptions,
  type RefreshOptions,
  type ClientAuthMethod,
} from './token-endpoint.js';
export { MAX_EXPIRES_IN_SECONDS, type Token } from './token.js';
export { RESERVED_TOKEN_PARAMS } from './token-params.js';
export { TokenManager, type GetTokenOptions } from './token-manager.js';
export {
  DEFAULT_CONCURRENCY,
  DEFAULT_COOLDOWN_MS,
  DEFAULT_MAX_COOLDOWN_MS,
  type TokenManagerOptions,
  type RenewWith,
} from './manager-options.js';
export type {
  TokenManagerEvents,
  TokenManagerStats,
  TokenEvent,
  RefreshFailedEvent,
  EvictedEvent,
  RefreshAuthenticationEvent,
  TokenSourceKind,
  TokenRequestStartEvent,
  TokenRequestEndEvent,
  TokenRequestOutcome,
} from './manager-events.js';
export {
  DEFAULT_EXPIRY_MARGIN_MS,
  DEFAULT_REFRESH_WINDOW_MS,
  DEFAULT_REFRESH_JITTER,
  type ExpiryPolicy,
} from './expiry.js';
export type { TokenStore, EvictionListener, EvictionReason, RecordKeeper, Renewal, RenewalResult, StoreEvent, TokenRecord } from './token-store.js';
export { LruTokenStore, DEFAULT_MAX_SCOPES, type LruTokenStoreOptions } from './lru-store.js';
export type { TimerApi } from './refresh-scheduler.js';
export { decodeJws, expiryFromJws, type DecodedJws, type FluxClaims } from './jws.js';
export {
  FluxTokenError,
  ConfigurationError,
  InvalidArgumentError,
  TokenEndpointError,
  TokenRequestError,
  InvalidTokenResponseError,
  TokenDecodeError,
  AbortError,
  TokenManagerClosedError,
  type FluxErrorCode,
  type OAuthErrorFields,
  type InvalidTokenResponseReason,
} from './errors.js';
export { VERSION } from './version.js';
export { authFetch, type AuthFetchOptions, type FetchFunction } from './fetch.js';
export type { HttpAuthOptions, ScopeOption, TokenSource } from './http-auth.js';
export type { OnForeignOrigin } from './origins.js';
export { ForeignOriginError } from './errors.js';
