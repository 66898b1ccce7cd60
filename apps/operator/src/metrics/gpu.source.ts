import { randomUUID } from 'node:crypto';
import { GpuMemoryQuerySubject } from '@lattice/contracts';
import type { RpcClient } from '@lattice/messaging';
import type { GpuSample } from '../scaling/autoscaler';

/** VRAM per GPU serving a workload, from the GPU-node service over NATS. */
export class GpuServiceSource {
  constructor(private readonly rpc: RpcClient) {}

  async memory(namespace: string, kind: string, workload: string): Promise<GpuSample[]> {
    const reply = await this.rpc.request(
      GpuMemoryQuerySubject,
      { namespace, workload, kind },
      {
        tenantId: null,
        actor: { type: 'service', id: 'operator', roles: [] },
        requestId: randomUUID(),
      },
      { timeoutMs: 3_000 },
    );
    return reply.gpus.map((g) => ({ usedMiB: g.usedMiB, freeMiB: g.freeMiB }));
  }
}

interface PromVector {
  status: string;
  error?: string;
  data?: {
    resultType: string;
    result: { metric: Record<string, string>; value: [number, string] }[];
  };
}

/** VRAM per GPU from Prometheus, over the DCGM exporter's frame-buffer gauges (MiB). */
export class PrometheusGpuSource {
  constructor(private readonly fetchFn: typeof fetch = fetch) {}

  private async query(url: string, promql: string): Promise<Map<string, number>> {
    const response = await this.fetchFn(
      `${url.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(promql)}`,
      {
        signal: AbortSignal.timeout(5_000),
      },
    );
    const body = (await response.json()) as PromVector;
    if (!response.ok || body.status !== 'success' || !body.data) {
      throw new Error(`Prometheus query failed: ${body.error ?? response.status}`);
    }
    const values = new Map<string, number>();
    for (const series of body.data.result) {
      // one GPU: DCGM labels it by UUID (and by Hostname + gpu index)
      const key =
        series.metric.UUID ??
        `${series.metric.Hostname ?? series.metric.instance}/${series.metric.gpu}`;
      values.set(key, Number(series.value[1]));
    }
    return values;
  }

  async memory(url: string, selector: string): Promise<GpuSample[]> {
    const [used, free] = await Promise.all([
      this.query(url, `DCGM_FI_DEV_FB_USED{${selector}}`),
      this.query(url, `DCGM_FI_DEV_FB_FREE{${selector}}`),
    ]);
    return [...used]
      .filter(([gpu]) => free.has(gpu))
      .map(([gpu, usedMiB]) => ({ usedMiB, freeMiB: free.get(gpu)! }));
  }
}
