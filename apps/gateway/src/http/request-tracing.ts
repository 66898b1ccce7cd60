import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import type {
  FastifyInstance,
  FastifyRequest,
  onRequestHookHandler,
  onResponseHookHandler,
  preValidationHookHandler,
} from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { isProbeRoute } from './probe-routes';
import { listOf } from './route-hooks';

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  get: (headers, key) => headers[key],
  keys: (headers) => Object.keys(headers),
};

const SPAN = Symbol('lattice.span');
const CONTEXT = Symbol('lattice.trace-context');
type TracedRequest = FastifyRequest & { [SPAN]?: Span; [CONTEXT]?: Context };

/** The server span of a request, if it has one: for its log line, which names its trace. */
export function spanOf(request: FastifyRequest): Span | undefined {
  return (request as TracedRequest)[SPAN];
}

/**
 * A server span for every request to a route but the probes, in Fastify's own hooks: the
 * caller's W3C trace context (`traceparent`) is its parent, everything the request does runs
 * in its context (the calls over NATS carry it on), and it ends with the status once the
 * response is out. The hooks are the traced routes' own, added as each route is declared, so
 * a probe runs none of them. This replaces the http instrumentation's span for incoming
 * requests, which binds the request's and the response's event emitters and measures every
 * request for metrics. A request no route matches is answered 404 untraced.
 */
export function traceRequests(fastify: FastifyInstance): void {
  const tracer = trace.getTracer('lattice-gateway');
  const start: onRequestHookHandler = (request, _reply, done) => {
    const parent = propagation.extract(ROOT_CONTEXT, request.headers, headerGetter);
    // described only when it is recorded: an unsampled span is its ids and nothing else (the
    // samplers OTEL_TRACES_SAMPLER can name decide on the parent and the trace id alone)
    const span = tracer.startSpan(request.method, { kind: SpanKind.SERVER }, parent);
    if (span.isRecording()) {
      span.setAttributes({
        'http.request.method': request.method,
        'url.path': request.url.split('?', 1)[0]!,
        'network.protocol.version': request.raw.httpVersion,
      });
    }
    const active = trace.setSpan(parent, span);
    const traced = request as TracedRequest;
    traced[SPAN] = span;
    traced[CONTEXT] = active;
    context.with(active, done);
  };
  // a body arrives in events of the connection, outside the request's context: the rest of
  // the request goes on in it again
  const resume: preValidationHookHandler = (request, _reply, done) => {
    const active = (request as TracedRequest)[CONTEXT];
    if (active) context.with(active, done);
    else done();
  };
  const end: onResponseHookHandler = (request, reply, done) => {
    const span = (request as TracedRequest)[SPAN];
    if (span?.isRecording()) {
      const route = request.routeOptions?.url;
      if (route) {
        span.updateName(`${request.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  };
  // probes and scrapes are not traced, as they never were
  fastify.addHook('onRoute', (route) => {
    if (isProbeRoute(route.url)) return;
    route.onRequest = [start, ...listOf(route.onRequest)];
    route.preValidation = [resume, ...listOf(route.preValidation)];
    route.onResponse = [...listOf(route.onResponse), end];
  });
}
