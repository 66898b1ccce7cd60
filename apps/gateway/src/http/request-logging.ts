import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { isProbeRoute } from './probe-routes';
import { RequestDurations } from './request-durations';
import { spanOf } from './request-tracing';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Accepts a caller's X-Request-Id when it is sane, otherwise makes one. */
export function requestIdFrom(
  header: string | string[] | undefined,
  fallback: () => string,
): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : fallback();
}

/** Echoes the request id, logs one line per request, and times it for Prometheus. */
export function instrumentRequests(
  fastify: FastifyInstance,
  logger: Logger,
  registry: Registry,
): void {
  const durations = new RequestDurations(
    'lattice_gateway_http_request_duration_seconds',
    'HTTP requests at the gateway by method, route and status.',
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registry,
  );
  // hooks that take `done` rather than returning a promise: nothing here waits for anything
  // the request line holds only what is written here (ids, method, route pattern, status,
  // time), nothing a redaction could find: it skips the redaction every other line passes
  // through, which costs more than the rest of the line
  const requests = logger.child({}, { redact: [] });
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions?.url ?? 'unmatched';
    const elapsed = reply.elapsedTime;
    durations.observe(request.method, route, reply.statusCode, elapsed / 1000);
    if (requests.isLevelEnabled('info') && !isProbeRoute(route)) {
      // the request's trace, named outright: the response may end outside its context
      const span = spanOf(request)?.spanContext();
      requests.info(
        {
          requestId: request.id,
          method: request.method,
          route,
          status: reply.statusCode,
          ms: Math.round(elapsed),
          ...(span ? { trace_id: span.traceId, span_id: span.spanId } : {}),
        },
        'request',
      );
    }
    done();
  });
}
