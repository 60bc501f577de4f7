/**
 * `instrument(manager)`: OpenTelemetry metrics and traces for a TokenManager, built on its events
 * and `stats()`. The manager itself knows nothing of OpenTelemetry; this entry is the only one
 * that imports `@opentelemetry/api`.
 */
import { metrics, trace, type MeterProvider, type TracerProvider } from '@opentelemetry/api';
import { ConfigurationError, InvalidArgumentError } from '../shared/errors.js';
import type { TokenManager } from '../manager/token-manager.js';
import { describe, orDefault, rejectUnknownOptions, requireBoolean, requireOptionsObject } from '../shared/validate.js';
import { VERSION } from '../shared/version.js';
import { instrumentMetrics } from './metrics.js';
import { INSTRUMENTATION_SCOPE } from './names.js';
import { instrumentTraces } from './traces.js';

/** Options of {@link instrument}. */
export interface InstrumentOptions {
  /**
   * Where the metrics go.
   * @default the global meter provider (`metrics.getMeterProvider()`), a no-op until an SDK registers one
   * @example meterProvider: new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter })] })
   */
  meterProvider?: MeterProvider;
  /**
   * Where the spans go.
   * @default the global tracer provider (`trace.getTracerProvider()`), a no-op until an SDK registers one
   */
  tracerProvider?: TracerProvider;
  /**
   * Record the user id (the token's scope) on each span, as `flux.token.scope`. Off by default: a
   * user id is personal data, and traces often leave the team that owns it. Metrics never carry
   * it, whatever this option says: one time series per user would swamp any metrics backend.
   * @default false
   */
  recordScope?: boolean;
}

const KNOWN_OPTIONS = ['meterProvider', 'tracerProvider', 'recordScope'];

/** An object with method `method`: providers are recognised by shape, as OpenTelemetry's API does. */
function requireProvider<T>(option: string, value: unknown, method: string): T {
  if (typeof value !== 'object' || value === null || typeof (value as Record<string, unknown>)[method] !== 'function') {
    throw new ConfigurationError(option, `Expected \`${option}\` to be an object with a \`${method}\` method, got ${describe(value)}`);
  }
  return value as T;
}

/** A TokenManager, recognised by the methods used here, so that one from another copy of the package works. */
function requireManager(value: unknown): TokenManager {
  const m = value as { on?: unknown; off?: unknown; stats?: unknown; tokenUrl?: unknown } | null;
  const ok =
    typeof m === 'object' &&
    m !== null &&
    typeof m.on === 'function' &&
    typeof m.off === 'function' &&
    typeof m.stats === 'function' &&
    m.tokenUrl instanceof URL;
  if (!ok) throw new InvalidArgumentError('manager', `Expected \`manager\` to be a TokenManager, got ${describe(value)}`);
  return value as TokenManager;
}

/**
 * Reports `manager` to OpenTelemetry: metrics of its token requests, cache lookups and gauges, and
 * a span per token-endpoint request. No attribute holds a token or a secret, and none holds a user
 * id unless `recordScope` is set. See docs/observability.md for every metric, attribute and span.
 *
 * Returns a function that undoes it: it removes every listener from the manager and stops the
 * observable instruments' callback (the manager then stays collectable). Call it when you close
 * the manager. Calling it again does nothing.
 *
 * @example
 * import { instrument } from 'flux-token-manager/otel';
 * const uninstrument = instrument(tokens);   // the global providers, set up by your OTel SDK
 * // ... on shutdown:
 * uninstrument();
 * await tokens.close();
 */
export function instrument(manager: TokenManager, options?: InstrumentOptions): () => void {
  const checked = requireManager(manager);
  const o = requireOptionsObject('options', options);
  rejectUnknownOptions('instrument()', o, KNOWN_OPTIONS);
  const meterProvider = requireProvider<MeterProvider>('meterProvider', orDefault(o.meterProvider, metrics.getMeterProvider()), 'getMeter');
  const tracerProvider = requireProvider<TracerProvider>('tracerProvider', orDefault(o.tracerProvider, trace.getTracerProvider()), 'getTracer');
  const recordScope = requireBoolean('recordScope', orDefault(o.recordScope, false));

  const stops = [
    instrumentMetrics(checked, meterProvider.getMeter(INSTRUMENTATION_SCOPE, VERSION)),
    instrumentTraces(checked, tracerProvider.getTracer(INSTRUMENTATION_SCOPE, VERSION), { recordScope }),
  ];
  return () => {
    for (const stop of stops.splice(0)) stop();
  };
}
