/**
 * The names this instrumentation records under: the instrumentation scope, the metrics, the span,
 * and the attribute keys. They are part of the public contract (dashboards and alerts are built on
 * them), so they live in one place and change only with a major version.
 */

/** The instrumentation scope (meter and tracer name) of every metric and span. */
export const INSTRUMENTATION_SCOPE = 'flux-token-manager';

/** Metric names. */
export const METRIC = Object.freeze({
  /** Counter of token-endpoint requests, by `grant`, `outcome` and `background`. */
  requests: 'flux.token.requests',
  /** Histogram of token-endpoint request durations, in seconds, with the same attributes. */
  requestDuration: 'flux.token.request.duration',
  /** Counter of `getToken` cache lookups, by `result` (`hit`, `miss`, `joined`). */
  cacheLookups: 'flux.token.cache.lookups',
  /** Gauge of scopes with a token cached in this process. */
  cachedScopes: 'flux.token.cache.scopes',
  /** Gauge of token requests queued or running (at most one per scope). */
  activeRequests: 'flux.token.active_requests',
} as const);

/** The name of the span of one token-endpoint request. */
export const SPAN_NAME = 'flux.token.request';

/**
 * Span attribute keys. The Flux-specific ones are namespaced, because span attributes share one
 * namespace with every other instrumentation in a trace; the others follow OpenTelemetry's
 * semantic conventions.
 */
export const SPAN_ATTRIBUTE = Object.freeze({
  /** The grant of the request: `client_credentials` or `refresh_token`. */
  grant: 'flux.token.grant',
  /** `success`, or the failure's stable error `code`. */
  outcome: 'flux.token.outcome',
  /** True for a renewal ahead of expiry that no caller waited for. */
  background: 'flux.token.background',
  /** The user id; only with `recordScope: true`. */
  scope: 'flux.token.scope',
  /** The RFC 6749 `error` the endpoint answered, when it is one of the registered codes. */
  oauthError: 'flux.token.oauth_error',
  /** The HTTP status of a failed answer (OpenTelemetry's semantic conventions). */
  statusCode: 'http.response.status_code',
  /** The HTTP method of the request, `POST` (OpenTelemetry's semantic conventions). */
  method: 'http.request.method',
  /** The failure's stable error `code` (OpenTelemetry's semantic conventions). */
  errorType: 'error.type',
  /** The token endpoint's host name (OpenTelemetry's semantic conventions). */
  serverAddress: 'server.address',
  /** The token endpoint's port (OpenTelemetry's semantic conventions). */
  serverPort: 'server.port',
} as const);

/**
 * Upper bounds of the duration histogram's buckets, in seconds: OpenTelemetry's advice for HTTP
 * client durations, extended to a minute, since a request with the endpoint's retries can last
 * `timeout × (retry + 1)` plus backoff.
 */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60,
]);
