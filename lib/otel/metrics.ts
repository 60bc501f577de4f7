/**
 * The metrics: a counter and a histogram of token-endpoint requests, fed by the manager's
 * `requestEnd` event, and observable instruments read from `stats()` at each collection, so that
 * the `getToken` hot path pays nothing for them.
 *
 * Several managers may report to one meter (say, two clients on the global meter provider). They
 * share its instruments: the observable callback sums over every instrumented manager, because an
 * observable instrument keeps only one value per attribute set per collection.
 */
import type { Attributes, BatchObservableCallback, Counter, Histogram, Meter, Observable } from '@opentelemetry/api';
import type { TokenManager } from '../manager/token-manager.js';
import type { TokenManagerStats, TokenRequestEndEvent } from '../manager/manager-events.js';
import { neverThrows } from './guard.js';
import { DURATION_BUCKETS, METRIC } from './names.js';

type Lookups = Pick<TokenManagerStats, 'hits' | 'misses' | 'joined'>;

/** One instrumented manager, and its lookups when it was instrumented (counted from there). */
interface Source {
  readonly manager: TokenManager;
  readonly base: Lookups;
}

/** The instruments of one meter, and the managers that report to it. */
interface MeterState {
  readonly requests: Counter;
  readonly duration: Histogram;
  readonly observables: Observable[];
  readonly observe: BatchObservableCallback;
  readonly sources: Set<Source>;
  /** Lookups of managers no longer instrumented: kept in the sums, so that counters never go down. */
  readonly retired: Lookups;
}

const states = new WeakMap<Meter, MeterState>();

const lookupsOf = ({ hits, misses, joined }: TokenManagerStats): Lookups => ({ hits, misses, joined });

function createState(meter: Meter): MeterState {
  const lookups = meter.createObservableCounter(METRIC.cacheLookups, {
    description: 'getToken calls, by result: hit (from the cache), miss (a new request), joined (waited for one in flight)',
    unit: '{lookup}',
  });
  const cached = meter.createObservableGauge(METRIC.cachedScopes, {
    description: 'Scopes (users, and the client-wide token) with a token cached in this process',
    unit: '{scope}',
  });
  const active = meter.createObservableGauge(METRIC.activeRequests, {
    description: 'Token requests queued or running, at most one per scope',
    unit: '{request}',
  });
  const sources = new Set<Source>();
  const retired: Lookups = { hits: 0, misses: 0, joined: 0 };
  const observe: BatchObservableCallback = (result) => {
    const sum = { ...retired, cached: 0, inFlight: 0 };
    for (const { manager, base } of sources) {
      const stats = manager.stats();
      sum.hits += stats.hits - base.hits;
      sum.misses += stats.misses - base.misses;
      sum.joined += stats.joined - base.joined;
      sum.cached += stats.cached;
      sum.inFlight += stats.inFlight;
    }
    result.observe(lookups, sum.hits, { result: 'hit' });
    result.observe(lookups, sum.misses, { result: 'miss' });
    result.observe(lookups, sum.joined, { result: 'joined' });
    result.observe(cached, sum.cached);
    result.observe(active, sum.inFlight);
  };
  return {
    requests: meter.createCounter(METRIC.requests, {
      description: 'Requests sent to the token endpoint (a request retried by the endpoint client counts once)',
      unit: '{request}',
    }),
    duration: meter.createHistogram(METRIC.requestDuration, {
      description: 'Duration of token-endpoint requests, retries included, queue wait excluded',
      unit: 's',
      advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
    }),
    observables: [lookups, cached, active],
    observe,
    sources,
    retired,
  };
}

/** The attributes of a request's metrics: low cardinality, and never a user id. */
function requestAttributes(event: TokenRequestEndEvent): Attributes {
  return { grant: event.grant, outcome: event.outcome, background: event.background };
}

/** Records `manager`'s metrics on `meter`; returns the function that stops it. */
export function instrumentMetrics(manager: TokenManager, meter: Meter): () => void {
  let state = states.get(meter);
  if (state === undefined) {
    state = createState(meter);
    states.set(meter, state);
  }
  const { requests, duration, sources, retired, observe, observables } = state;
  const source: Source = { manager, base: lookupsOf(manager.stats()) };
  if (sources.size === 0) meter.addBatchObservableCallback(observe, observables);
  sources.add(source);
  const onEnd = neverThrows('recording a token request metric', (event: TokenRequestEndEvent) => {
    const attributes = requestAttributes(event);
    requests.add(1, attributes);
    duration.record(event.durationMs / 1000, attributes);
  });
  manager.on('requestEnd', onEnd);
  return () => {
    manager.off('requestEnd', onEnd);
    if (!sources.delete(source)) return;
    const last = lookupsOf(manager.stats());
    retired.hits += last.hits - source.base.hits;
    retired.misses += last.misses - source.base.misses;
    retired.joined += last.joined - source.base.joined;
    if (sources.size === 0) meter.removeBatchObservableCallback(observe, observables);
  };
}
