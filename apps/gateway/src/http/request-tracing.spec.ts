import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import Fastify, { type FastifyInstance } from 'fastify';
import { spanOf, traceRequests } from './request-tracing';

describe('traceRequests', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let app: FastifyInstance;
  /** The trace a handler found active, by request id. */
  const seen = new Map<string, string | undefined>();
  const activeTrace = () => trace.getSpan(context.active())?.spanContext().traceId;

  beforeAll(async () => {
    provider.register({ contextManager: new AsyncLocalStorageContextManager() });
    app = Fastify({ logger: false });
    traceRequests(app);
    app.get('/livez', async () => ({ status: 'ok' }));
    app.get<{ Params: { id: string } }>('/things/:id', async (request) => {
      seen.set(request.id, activeTrace());
      return { id: request.params.id };
    });
    app.post('/things', async (request, reply) => {
      // the body came in after the request began: the handler still runs in its trace
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.set(request.id, activeTrace());
      return reply.status(503).send({ traceId: spanOf(request)?.spanContext().traceId });
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  });
  beforeEach(() => exporter.reset());

  const traceparent = () => {
    const traceId = randomBytes(16).toString('hex');
    return { traceId, header: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
  };

  it('makes a server span of a request, a child of the caller’s traceparent, named by its route', async () => {
    const { traceId, header } = traceparent();
    seen.clear();
    const response = await app.inject({
      method: 'GET',
      url: '/things/42?full=1',
      headers: { traceparent: header },
    });
    expect(response.statusCode).toBe(200);
    const [span] = exporter.getFinishedSpans();
    expect(span?.spanContext().traceId).toBe(traceId);
    expect(span?.name).toBe('GET /things/:id');
    expect(span?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/things/:id',
      'url.path': '/things/42',
      'http.response.status_code': 200,
    });
    expect([...seen.values()]).toEqual([traceId]);
  });

  it('runs a handler that takes a body in the request’s trace, and marks a 5xx as an error', async () => {
    const { traceId, header } = traceparent();
    seen.clear();
    // over a socket, the body sent a while after the headers: it arrives in events of the
    // connection, after the request began
    const address = app.server.address() as { port: number };
    const body = JSON.stringify({ name: 'x'.repeat(1_000) });
    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const sending = request(
        {
          host: '127.0.0.1',
          port: address.port,
          method: 'POST',
          path: '/things',
          headers: {
            traceparent: header,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      sending.on('error', reject);
      sending.flushHeaders();
      setTimeout(() => sending.end(body), 50);
    });
    expect(response.status).toBe(503);
    expect(JSON.parse(response.body)).toEqual({ traceId });
    expect([...seen.values()]).toEqual([traceId]);
    const [span] = exporter.getFinishedSpans();
    expect(span?.spanContext().traceId).toBe(traceId);
    expect(span?.status.code).toBe(2);
  });

  it('starts a trace of its own for a request that carries none', async () => {
    seen.clear();
    await app.inject({ method: 'GET', url: '/things/7' });
    const [span] = exporter.getFinishedSpans();
    expect(span?.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect([...seen.values()]).toEqual([span?.spanContext().traceId]);
  });

  it('leaves the probes untraced', async () => {
    await app.inject({ method: 'GET', url: '/livez' });
    await app.inject({ method: 'GET', url: '/livez?verbose=1' });
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('makes one span of a HEAD request, answered by the GET route', async () => {
    const response = await app.inject({ method: 'HEAD', url: '/things/7' });
    expect(response.statusCode).toBe(200);
    expect(exporter.getFinishedSpans()).toHaveLength(1);
  });
});
