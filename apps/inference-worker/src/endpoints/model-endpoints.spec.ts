import { ConfigError, loadConfig } from '@lattice/config';
import { inferenceWorkerConfigSpec } from '../inference-worker.config';
import {
  FallbackEndpoints,
  StaticEndpoints,
  held,
  parseStaticEndpoints,
  type EndpointSource,
  type ModelEndpoint,
} from './model-endpoints';

const request = (model: string, tried: ModelEndpoint[] = []) => ({ model, tenantId: 't', tried });

describe(parseStaticEndpoints.name, () => {
  it('reads model=url pairs, * for any model', () => {
    expect(parseStaticEndpoints(' a=http://x:8000/v1, *=https://api.example/v1 ')).toEqual([
      { model: 'a', url: 'http://x:8000/v1' },
      { model: '*', url: 'https://api.example/v1' },
    ]);
    expect(parseStaticEndpoints('')).toEqual([]);
  });

  it('refuses a pair without a model, a URL that is not one, and another scheme', () => {
    expect(() => parseStaticEndpoints('http://x/v1')).toThrow(/model>=<url/);
    expect(() => parseStaticEndpoints('a=not a url')).toThrow(/not a URL/);
    expect(() => parseStaticEndpoints('a=ftp://x/v1')).toThrow(/http/);
  });

  it('stops the worker at start naming LATTICE_MODEL_ENDPOINTS', () => {
    const env = {
      LATTICE_INTERNAL_SECRET: 'x'.repeat(40),
      LATTICE_CONTEXT_KEY: 'unused',
      LATTICE_MODEL_ENDPOINTS: 'a=nowhere',
    };
    let error: unknown;
    try {
      loadConfig(inferenceWorkerConfigSpec, env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('LATTICE_MODEL_ENDPOINTS');
  });
});

describe(StaticEndpoints.name, () => {
  const endpoints = new StaticEndpoints([
    { model: 'a', url: 'http://one/v1' },
    { model: '*', url: 'http://any/v1' },
    { model: 'a', url: 'http://two/v1' },
  ]);

  it('gives the endpoints serving the model (by name or *) in the order configured, skipping the tried', async () => {
    const first = (await endpoints.first(request('a')))!.endpoint;
    expect(first).toEqual({ model: 'a', url: 'http://one/v1', node: null });
    const second = (await endpoints.next(request('a', [first])))!.endpoint;
    expect(second.url).toBe('http://any/v1');
    const third = (await endpoints.next(request('a', [first, second])))!.endpoint;
    expect(third.url).toBe('http://two/v1');
    expect(await endpoints.next(request('a', [first, second, third]))).toBeNull();
    expect((await endpoints.first(request('b')))!.endpoint.url).toBe('http://any/v1');
  });
});

describe(FallbackEndpoints.name, () => {
  const routed: EndpointSource = {
    first: async ({ model }) =>
      model === 'routed' ? held({ model, url: 'http://node/v1', node: 'n1' }) : null,
    next: async () => null,
  };
  const endpoints = new FallbackEndpoints(
    routed,
    new StaticEndpoints([{ model: '*', url: 'http://static/v1' }]),
  );

  it('takes the route where gpu-nodes has one, else the configured endpoint', async () => {
    expect((await endpoints.first(request('routed')))!.endpoint.node).toBe('n1');
    expect((await endpoints.first(request('other')))!.endpoint.url).toBe('http://static/v1');
  });

  it('after the routed nodes are exhausted, falls back to the configured endpoint', async () => {
    const node = { model: 'routed', url: 'http://node/v1', node: 'n1' };
    const next = await endpoints.next(request('routed', [node]), node, 'boom');
    expect(next!.endpoint.url).toBe('http://static/v1');
  });
});
