/**
 * The real OpenTelemetry SDK with its in-memory exporters, for the tests of
 * `flux-token-manager/otel`: metrics through a PeriodicExportingMetricReader that exports only when
 * flushed, spans through a SimpleSpanProcessor.
 */
import type { Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** One data point of a sum or gauge: its attributes and value. */
export interface Point {
  attributes: Attributes;
  value: number;
}

/** One data point of a histogram: its attributes, count and sum. */
export interface HistogramPoint {
  attributes: Attributes;
  count: number;
  sum: number;
}

export interface OtelKit {
  meterProvider: MeterProvider;
  tracerProvider: BasicTracerProvider;
  /** Exports the metrics now and returns them. */
  collect(): Promise<Metrics>;
  /** Every span ended so far. */
  spans(): ReadableSpan[];
  shutdown(): Promise<void>;
}

/** The metrics of one export, by name. */
export class Metrics {
  constructor(readonly all: MetricData[]) {}

  /** The metric named `name`, or undefined when the export has none. */
  find(name: string): MetricData | undefined {
    return this.all.find((m) => m.descriptor.name === name);
  }

  /** The data points of a sum or gauge (empty when the metric was not exported). */
  points(name: string): Point[] {
    const metric = this.find(name);
    if (metric === undefined) return [];
    if (metric.dataPointType === DataPointType.HISTOGRAM) throw new Error(`${name} is a histogram`);
    return metric.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value as number }));
  }

  /** The sum of a sum's or gauge's points whose attributes include `match`. */
  total(name: string, match: Attributes = {}): number {
    return this.points(name)
      .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
      .reduce((sum, p) => sum + p.value, 0);
  }

  /** The data points of a histogram. */
  histogram(name: string): HistogramPoint[] {
    const metric = this.find(name);
    if (metric === undefined) return [];
    if (metric.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`${name} is not a histogram`);
    return metric.dataPoints.map((p) => ({ attributes: p.attributes, count: p.value.count, sum: p.value.sum ?? 0 }));
  }

  /** Every attribute key and value of every data point, as text, for leak checks. */
  attributeText(): string {
    return JSON.stringify(this.all.map((m) => m.dataPoints.map((p) => p.attributes)));
  }
}

/** Every attribute, status and event of `spans`, as text, for leak checks. */
export function spanText(spans: ReadableSpan[]): string {
  return JSON.stringify(spans.map((s) => [s.name, s.attributes, s.status, s.events, s.links]));
}

export function startOtel(temporality = AggregationTemporality.CUMULATIVE): OtelKit {
  const metricExporter = new InMemoryMetricExporter(temporality);
  // Exports only on forceFlush: the interval is longer than any test.
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  return {
    meterProvider,
    tracerProvider,
    async collect() {
      metricExporter.reset();
      await reader.forceFlush();
      const exported = metricExporter.getMetrics();
      return new Metrics(exported.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics)));
    },
    spans: () => spanExporter.getFinishedSpans(),
    async shutdown() {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}
