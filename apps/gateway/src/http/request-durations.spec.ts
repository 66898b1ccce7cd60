import { Histogram, Registry } from 'prom-client';
import { RequestDurations } from './request-durations';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The exposition's lines, in an order of their own: series may be listed in another order. */
const lines = async (registry: Registry) => (await registry.metrics()).split('\n').sort();

describe('RequestDurations', () => {
  it('exposes what prom-client’s own histogram exposes for the same requests', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const durations = new RequestDurations('http_seconds', 'Requests.', BUCKETS, ours);
    const histogram = new Histogram({
      name: 'http_seconds',
      help: 'Requests.',
      labelNames: ['method', 'route', 'status'],
      buckets: BUCKETS,
      registers: [theirs],
    });
    const requests: [string, string, number, number][] = [
      ['GET', '/livez', 200, 0.0004],
      ['GET', '/v1/tenants/:id', 200, 0.001], // on a bound: counted in that bucket
      ['GET', '/v1/tenants/:id', 404, 0.0031],
      ['POST', '/v1/tenants', 201, 0.27],
      ['GET', '/livez', 200, 0.01],
      ['GET', '/v1/tenants/:id', 200, 3.5], // over every bound
      ['DELETE', '/v1/tenants/:id', 204, 0.05],
      ['GET', 'unmatched', 404, 0],
    ];
    for (const [method, route, status, seconds] of requests) {
      durations.observe(method, route, status, seconds);
      histogram.observe({ method, route, status: String(status) }, seconds);
    }
    expect(await lines(ours)).toEqual(await lines(theirs));
    expect((await ours.metrics()).split('\n')).toContain(
      'http_seconds_bucket{le="0.001",method="GET",route="/v1/tenants/:id",status="200"} 1',
    );
  });

  it('starts again from nothing when the registry is reset', async () => {
    const registry = new Registry();
    const durations = new RequestDurations('reset_seconds', 'Requests.', BUCKETS, registry);
    durations.observe('GET', '/livez', 200, 0.002);
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('reset_seconds_count');
    durations.observe('GET', '/livez', 200, 0.002);
    expect(await registry.metrics()).toContain(
      'reset_seconds_count{method="GET",route="/livez",status="200"} 1',
    );
  });

  it('refuses bounds that are not increasing', () => {
    expect(() => new RequestDurations('bad_seconds', 'x', [0.1, 0.1], new Registry())).toThrow(
      /increasing/,
    );
  });
});
