import { PrometheusGpuSource } from './gpu.source';

/** Prometheus is not on this machine: answer its HTTP API the way it does (instant vectors). */
function prometheus(
  series: Record<string, { metric: Record<string, string>; value: string }[]>,
  endpoints = ['http://prometheus:9090'],
) {
  const calls: string[] = [];
  const urls: string[] = [];
  const fetchFn = (async (input: string | URL | Request) => {
    const url = new URL(String(input));
    urls.push(`${url.origin}${url.pathname}`);
    const query = url.searchParams.get('query')!;
    calls.push(query);
    const name = query.slice(0, query.indexOf('{'));
    const result = (series[name] ?? []).map((s) => ({
      metric: s.metric,
      value: [1735689600.123, s.value],
    }));
    return new Response(
      JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }),
      {
        status: 200,
        headers: { 'content-type': 'application/json' },
      },
    );
  }) as typeof fetch;
  return { calls, urls, source: new PrometheusGpuSource(endpoints, fetchFn) };
}

describe(PrometheusGpuSource.name, () => {
  it('pairs DCGM used and free frame buffer per GPU', async () => {
    const gpu = (uuid: string) => ({
      UUID: uuid,
      Hostname: 'node-1',
      gpu: uuid.slice(-1),
      modelName: 'Tesla V100-SXM2-32GB',
    });
    const { calls, source } = prometheus({
      DCGM_FI_DEV_FB_USED: [
        { metric: gpu('GPU-0'), value: '30000' },
        { metric: gpu('GPU-1'), value: '1000' },
      ],
      DCGM_FI_DEV_FB_FREE: [
        { metric: gpu('GPU-1'), value: '31510' },
        { metric: gpu('GPU-0'), value: '2510' },
      ],
    });
    const gpus = await source.memory(
      'http://prometheus:9090/',
      'namespace="ml",pod=~"inference-.*"',
    );
    expect(gpus).toEqual([
      { usedMiB: 30000, freeMiB: 2510 },
      { usedMiB: 1000, freeMiB: 31510 },
    ]);
    expect(calls).toEqual([
      'DCGM_FI_DEV_FB_USED{namespace="ml",pod=~"inference-.*"}',
      'DCGM_FI_DEV_FB_FREE{namespace="ml",pod=~"inference-.*"}',
    ]);
  });

  it('reports a failed query with the error Prometheus gave', async () => {
    const fetchFn = (async () =>
      new Response(
        JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error at char 5' }),
        {
          status: 400,
        },
      )) as typeof fetch;
    await expect(
      new PrometheusGpuSource(['http://p:9090'], fetchFn).memory('http://p:9090', 'x'),
    ).rejects.toThrow('Prometheus query failed: parse error at char 5');
  });

  it('queries the default endpoint when a policy names none, and any allowed one it names', async () => {
    const { urls, source } = prometheus({}, ['http://prom-a:9090', 'https://prom-b/prometheus']);
    await source.memory(undefined, 'x="y"');
    await source.memory('HTTPS://Prom-B:443/prometheus/', 'x="y"');
    expect(urls).toEqual([
      'http://prom-a:9090/api/v1/query',
      'http://prom-a:9090/api/v1/query',
      'https://prom-b/prometheus/api/v1/query',
      'https://prom-b/prometheus/api/v1/query',
    ]);
  });

  it('refuses an endpoint the operator is not configured with, without sending it anything', async () => {
    const { urls, source } = prometheus({}, ['http://prometheus:9090']);
    for (const url of [
      'http://169.254.169.254/latest/meta-data',
      'http://prometheus:9091',
      'http://prometheus:9090/api/v1/admin?',
      'file:///etc/passwd',
      'not a url',
    ]) {
      await expect(source.memory(url, 'x="y"')).rejects.toThrow(
        `prometheus.url ${url} is not one of the Prometheus endpoints the operator may query (OPERATOR_PROMETHEUS_URLS)`,
      );
    }
    const none = prometheus({}, []).source;
    await expect(none.memory(undefined, 'x="y"')).rejects.toThrow(
      'the operator has no Prometheus endpoint configured (OPERATOR_PROMETHEUS_URLS)',
    );
    expect(urls).toEqual([]);
  });
});
