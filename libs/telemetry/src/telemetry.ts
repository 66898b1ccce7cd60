import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  processDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  NoopSpanProcessor,
  ParentBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/** What a started process holds: shut down, in order, on the way out. */
interface Running {
  tracerProvider: NodeTracerProvider;
  meterProvider?: MeterProvider;
  disable: () => void;
}

let running: Running | undefined;

export interface TelemetryOptions {
  /**
   * Whether the http instrumentation makes a span of every incoming request (true unless
   * told). A server that traces its requests itself, in its framework's hooks (the gateway),
   * says false: outgoing requests are still traced.
   */
  incomingHttp?: boolean;
}

/**
 * Starts tracing. Must run before Nest, pg or http are loaded so their instrumentation hooks in.
 * Spans are recorded and exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set. Without an exporter a trace that starts here is
 * decided unsampled: its spans still have their ids, continue the caller's trace and are
 * carried on over NATS, so log lines and audit events name real traces, but nothing is
 * recorded for no one (a span's attributes, times and end cost a request more than its ids).
 * A caller's decision is kept either way: a trace that arrives sampled goes on sampled, so the
 * services after this one that do export still see it whole. OpenTelemetry
 * metrics are kept only where they can go somewhere (an OTLP endpoint, or
 * OTEL_METRICS_EXPORTER): otherwise every request would be measured for no reader, the
 * services' metrics being Prometheus's at /metrics.
 */
export function startTelemetry(serviceName: string, options: TelemetryOptions = {}): void {
  if (running || process.env.OTEL_SDK_DISABLED === 'true') return;
  const exporting =
    !!process.env.OTEL_EXPORTER_OTLP_ENDPOINT || !!process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const exportingMetrics =
    !!process.env.OTEL_METRICS_EXPORTER ||
    !!process.env.OTEL_EXPORTER_OTLP_ENDPOINT ||
    !!process.env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT;
  const resource = defaultResource()
    .merge(detectResources({ detectors: [envDetector, processDetector, hostDetector] }))
    .merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: process.env.OTEL_SERVICE_NAME ?? `lattice-${serviceName}`,
      }),
    );
  // a provider is registered either way: without one, spans would have no ids at all
  const tracerProvider = new NodeTracerProvider({
    resource,
    // undefined: the sampler OTEL_TRACES_SAMPLER names (parent-based, always on, unless said)
    sampler: exporting ? undefined : new ParentBasedSampler({ root: new AlwaysOffSampler() }),
    spanProcessors: [
      exporting ? new BatchSpanProcessor(new OTLPTraceExporter()) : new NoopSpanProcessor(),
    ],
  });
  tracerProvider.register({
    contextManager: new AsyncLocalStorageContextManager(),
    propagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  });
  // OpenTelemetry's own metrics only where a reader takes them (see above)
  const readers = exportingMetrics ? metricReaders(process.env.OTEL_METRICS_EXPORTER) : [];
  const meterProvider = readers.length > 0 ? new MeterProvider({ resource, readers }) : undefined;
  if (meterProvider) metrics.setGlobalMeterProvider(meterProvider);
  const disable = registerInstrumentations({
    instrumentations: [
      new HttpInstrumentation({
        disableIncomingRequestInstrumentation: options.incomingHttp === false,
        ignoreIncomingRequestHook: (req) => /^\/(livez|readyz|metrics)/.test(req.url ?? ''),
      }),
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
    ],
  });
  running = { tracerProvider, meterProvider, disable };
}

/**
 * The metric readers OTEL_METRICS_EXPORTER names, as the specification reads it: a comma-separated
 * list of `otlp` (over HTTP; the default), `console` and `none`. Prometheus is not offered: the
 * services' own metrics are Prometheus's already, at /metrics.
 */
export function metricReaders(names = 'otlp'): MetricReader[] {
  return names
    .split(',')
    .map((name) => name.trim())
    .flatMap((name): MetricReader[] => {
      if (name === 'otlp')
        return [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter() })];
      if (name === 'console')
        return [new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter() })];
      if (name !== 'none' && name !== '')
        console.warn(`telemetry: OTEL_METRICS_EXPORTER names "${name}", which is not offered`);
      return [];
    });
}

/** Flushes and stops the exporter; part of a clean shutdown. */
export async function stopTelemetry(): Promise<void> {
  const stopping = running;
  running = undefined;
  if (!stopping) return;
  stopping.disable();
  await Promise.all([
    stopping.tracerProvider.shutdown().catch(() => undefined),
    stopping.meterProvider?.shutdown().catch(() => undefined),
  ]);
  trace.disable();
  propagation.disable();
  context.disable();
  metrics.disable();
}
