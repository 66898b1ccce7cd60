import {
  context,
  propagation,
  trace,
  SpanKind,
  SpanStatusCode,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';

/** The part of a NATS `MsgHdrs` that propagation needs. */
export interface HeaderCarrier {
  get(key: string): string;
  set(key: string, value: string): void;
  has(key: string): boolean;
  keys(): string[];
}

const setter: TextMapSetter<HeaderCarrier> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

const getter: TextMapGetter<HeaderCarrier | undefined> = {
  get: (carrier, key) => (carrier?.has(key) ? carrier.get(key) : undefined),
  keys: (carrier) => carrier?.keys() ?? [],
};

/** Writes the active W3C trace context (traceparent, tracestate, baggage) into NATS headers. */
export function injectTraceContext(headers: HeaderCarrier, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers, setter);
}

export function extractTraceContext(headers: HeaderCarrier | undefined): Context {
  return propagation.extract(context.active(), headers, getter);
}

const tracer = () => trace.getTracer('lattice-messaging');

/** Runs `fn` in a span that is a child of whatever context the message carried. */
export async function withMessagingSpan<T>(
  name: string,
  kind: 'client' | 'server' | 'consumer' | 'producer',
  parent: Context,
  attributes: Record<string, string>,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const spanKind = {
    client: SpanKind.CLIENT,
    server: SpanKind.SERVER,
    consumer: SpanKind.CONSUMER,
    producer: SpanKind.PRODUCER,
  }[kind];
  return tracer().startActiveSpan(
    name,
    { kind: spanKind, attributes: { 'messaging.system': 'nats', ...attributes } },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
