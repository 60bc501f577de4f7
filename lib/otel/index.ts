/**
 * flux-token-manager/otel: OpenTelemetry metrics and traces for a TokenManager. Needs the optional
 * peer dependency `@opentelemetry/api` (1.9 or later); the main entry never loads it. This file
 * only exports; see docs/observability.md for every metric, attribute and span.
 */
export { instrument, type InstrumentOptions } from './instrument.js';
export { INSTRUMENTATION_SCOPE, METRIC, SPAN_NAME, SPAN_ATTRIBUTE, DURATION_BUCKETS } from './names.js';
