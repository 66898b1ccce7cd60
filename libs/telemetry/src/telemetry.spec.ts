import { ROOT_CONTEXT, propagation, trace, type Span } from '@opentelemetry/api';
import { metricReaders, startTelemetry, stopTelemetry } from './telemetry';

describe('startTelemetry without an exporter', () => {
  const extract = (carrier: Record<string, string>) =>
    propagation.extract(ROOT_CONTEXT, carrier, {
      get: (c, key) => c[key],
      keys: (c) => Object.keys(c),
    });
  const traceparentOf = (span: Span) => {
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
    return carrier.traceparent;
  };

  beforeAll(() => {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    startTelemetry('telemetry-spec');
  });
  afterAll(() => stopTelemetry());

  const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const callerSpan = '00f067aa0ba902b7';
  const fromCaller = (flags: '00' | '01') =>
    trace
      .getTracer('spec')
      .startSpan(
        'GET /things',
        {},
        extract({ traceparent: `00-${callerTrace}-${callerSpan}-${flags}` }),
      );

  it("continues the caller's trace, with a span id of its own, and carries it on", () => {
    const span = fromCaller('00');
    expect(span.spanContext().traceId).toBe(callerTrace);
    expect(span.spanContext().spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(span.spanContext().spanId).not.toBe(callerSpan);
    expect(traceparentOf(span)).toMatch(new RegExp(`^00-${callerTrace}-[0-9a-f]{16}-00$`));
    expect(span.isRecording()).toBe(false);
    span.end();
  });

  it("keeps a caller's decision to sample, so the services after it that export see the trace", () => {
    const span = fromCaller('01');
    expect(span.spanContext().traceId).toBe(callerTrace);
    expect(traceparentOf(span)).toMatch(new RegExp(`^00-${callerTrace}-[0-9a-f]{16}-01$`));
    span.end();
  });

  it('starts a trace of its own for a caller that sent none', () => {
    const tracer = trace.getTracer('spec');
    const first = tracer.startSpan('one', {}, extract({}));
    const second = tracer.startSpan('two', {}, extract({}));
    for (const span of [first, second])
      expect(span.spanContext().traceId).toMatch(/^(?!0{32})[0-9a-f]{32}$/);
    expect(first.spanContext().traceId).not.toBe(second.spanContext().traceId);
  });

  it('records nothing of a trace that starts here, since nothing would receive it', () => {
    const span = trace.getTracer('spec').startSpan('unrecorded', {}, extract({}));
    expect(span.isRecording()).toBe(false);
  });
});

describe('metricReaders', () => {
  const kinds = (names?: string) =>
    metricReaders(names).map(
      (reader) =>
        (reader as unknown as { _exporter: { constructor: { name: string } } })._exporter
          .constructor.name,
    );

  it('reads OTLP unless OTEL_METRICS_EXPORTER says otherwise', () => {
    expect(kinds()).toEqual(['OTLPMetricExporter']);
    expect(kinds('console, otlp')).toEqual(['ConsoleMetricExporter', 'OTLPMetricExporter']);
  });

  it('reads nothing where it says none, or names only what is not offered', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(kinds('none')).toEqual([]);
    expect(kinds('prometheus')).toEqual([]);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('"prometheus"'));
    warn.mockRestore();
  });
});
