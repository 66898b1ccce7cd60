import { Writable } from 'node:stream';
import { createLogger } from '@lattice/logging';
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { instrumentRequests } from './request-logging';

describe('instrumentRequests', () => {
  const lines: Record<string, unknown>[] = [];
  const registry = new Registry();
  let app: FastifyInstance;

  beforeAll(async () => {
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
          lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    app = Fastify({ logger: false, genReqId: () => 'req-1' });
    instrumentRequests(app, createLogger('gateway', 'info', 'json', destination), registry);
    app.get('/livez', async () => ({ status: 'ok' }));
    app.get('/things/:id', async () => ({ token: 'not logged' }));
    await app.ready();
  });
  afterAll(() => app.close());

  it('echoes the request id, logs one line naming the route and status, and times the request', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/things/7',
      headers: { authorization: 'Bearer secret-token' },
    });
    expect(response.headers['x-request-id']).toBe('req-1');
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'request',
        requestId: 'req-1',
        method: 'GET',
        route: '/things/:id',
        status: 200,
        ms: expect.any(Number),
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('secret-token');
    const metrics = await registry.getMetricsAsJSON();
    const histogram = metrics.find(
      (m) => m.name === 'lattice_gateway_http_request_duration_seconds',
    );
    expect(JSON.stringify(histogram)).toContain('/things/:id');
  });

  it('times the probes without logging them', async () => {
    lines.length = 0;
    await app.inject({ method: 'GET', url: '/livez' });
    expect(lines).toEqual([]);
    const text = await registry.metrics();
    expect(text).toMatch(/route="\/livez",status="200"/);
  });
});
