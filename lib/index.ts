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
  type SendOptions,
  type EndpointClockOptions,
  type RequestOptions,
  type ClientCredentialsOptions,
  type RefreshOptions,
  type ClientAuthMethod,
} from './endpoint/token-endpoint.js';
export { MAX_EXPIRES_IN_SECONDS, type Token } from './endpoint/token.js';
export { RESERVED_TOKEN_PARAMS } from './endpoint/token-params.js';
export { TokenManager, type GetTokenOptions } from './manager/token-manager.js';
export {
  DEFAULT_CONCURRENCY,
  DEFAULT_COOLDOWN_MS,
  DEFAULT_MAX_COOLDOWN_MS,
  type TokenManagerOptions,
  type ManagerRefreshOptions,
  type ManagerRateLimitOptions,
  type CooldownOptions,
  type ClockOptions,
  type RenewWith,
} from './manager/manager-options.js';
export type {
  TokenManagerEvents,
  TokenManagerStats,
  TokenEvent,
  RefreshFailedEvent,
  EvictedEvent,
  RefreshAuthenticationEvent,
  ListenerErrorEvent,
  TokenSourceKind,
  TokenRequestStartEvent,
  TokenRequestEndEvent,
  TokenRequestOutcome,
} from './manager/manager-events.js';
export {
  DEFAULT_EXPIRY_MARGIN_MS,
  DEFAULT_REFRESH_WINDOW_MS,
  DEFAULT_REFRESH_JITTER,
  type ExpiryPolicy,
} from './manager/expiry.js';
export type { TokenStore, EvictionListener, EvictionReason, RecordKeeper, Renewal, RenewalResult, StoreEvent, TokenRecord } from './store/token-store.js';
export { LruTokenStore, DEFAULT_MAX_SCOPES, type LruTokenStoreOptions } from './store/lru-store.js';
export type { TimerApi } from './manager/refresh-scheduler.js';
export { decodeJws, expiryFromJws, type DecodedJws, type FluxClaims } from './endpoint/jws.js';
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
} from './shared/errors.js';
export { VERSION } from './shared/version.js';
export { authFetch, type AuthFetchOptions, type FetchFunction, type FetchImplementation, type FetchResponseLike } from './http/fetch.js';
export type { HttpAuthOptions, ScopeOption, TokenSource } from './http/http-auth.js';
export type { OnForeignOrigin } from './http/origins.js';
export { ForeignOriginError, MissingScopeError } from './shared/errors.js';
