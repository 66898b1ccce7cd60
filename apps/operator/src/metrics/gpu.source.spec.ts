import { PrometheusGpuSource } from './gpu.source';

/** Prometheus is not on this machine: answer its HTTP API the way it does (instant vectors). */
function prometheus(series: Record<string, { metric: Record<string, string>; value: string }[]>) {
  const calls: string[] = [];
  const fetchFn = (async (input: string | URL | Request) => {
    const query = new URL(String(input)).searchParams.get('query')!;
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
  return { calls, source: new PrometheusGpuSource(fetchFn) };
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
    await expect(new PrometheusGpuSource(fetchFn).memory('http://p:9090', 'x')).rejects.toThrow(
      'Prometheus query failed: parse error at char 5',
    );
  });
});
