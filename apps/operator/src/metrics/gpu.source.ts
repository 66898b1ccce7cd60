import { GpuMemoryQuerySubject } from '@lattice/contracts';
import { type RpcClient } from '@lattice/messaging';
import { serviceContext } from '@lattice/request-context';
import type { GpuSample } from '../scaling/autoscaler';
import { normalizePrometheusUrl } from './prometheus-url';

/** VRAM per GPU serving a workload, from the GPU-node service over NATS. */
export class GpuServiceSource {
  constructor(private readonly rpc: RpcClient) {}

  async memory(namespace: string, kind: string, workload: string): Promise<GpuSample[]> {
    const reply = await this.rpc.request(
      GpuMemoryQuerySubject,
      { namespace, workload, kind },
      serviceContext('operator'),
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

/**
 * VRAM per GPU from Prometheus, over the DCGM exporter's frame-buffer gauges (MiB). It queries
 * only the endpoints the operator is configured with: a policy that names another URL is
 * refused, so a policy author cannot make the operator send requests wherever they like.
 */
export class PrometheusGpuSource {
  /**
   * @param endpoints allowed base URLs, normalized; the first is the default
   */
  constructor(
    private readonly endpoints: readonly string[],
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  /** The endpoint to query for a policy's `prometheus.url` (unset: the default). */
  endpointFor(requested: string | undefined): string {
    if (this.endpoints.length === 0) {
      throw new Error(
        'the operator has no Prometheus endpoint configured (OPERATOR_PROMETHEUS_URLS); use source GpuService or ask its administrator to add one',
      );
    }
    if (requested === undefined) return this.endpoints[0];
    const url = normalizePrometheusUrl(requested);
    if (url === undefined || !this.endpoints.includes(url)) {
      throw new Error(
        `prometheus.url ${requested} is not one of the Prometheus endpoints the operator may query (OPERATOR_PROMETHEUS_URLS); leave it unset for the default or ask its administrator to add it`,
      );
    }
    return url;
  }

  private async query(url: string, promql: string): Promise<Map<string, number>> {
    const response = await this.fetchFn(
      `${url}/api/v1/query?query=${encodeURIComponent(promql)}`,
      // a redirect could lead anywhere: only the allowed endpoint itself is asked
      { signal: AbortSignal.timeout(5_000), redirect: 'error' },
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

  /** VRAM of the GPUs whose DCGM series match `selector`, from an allowed endpoint. */
  async memory(requestedUrl: string | undefined, selector: string): Promise<GpuSample[]> {
    const url = this.endpointFor(requestedUrl);
    const [used, free] = await Promise.all([
      this.query(url, `DCGM_FI_DEV_FB_USED{${selector}}`),
      this.query(url, `DCGM_FI_DEV_FB_FREE{${selector}}`),
    ]);
    return [...used]
      .filter(([gpu]) => free.has(gpu))
      .map(([gpu, usedMiB]) => ({ usedMiB, freeMiB: free.get(gpu)! }));
  }
}
