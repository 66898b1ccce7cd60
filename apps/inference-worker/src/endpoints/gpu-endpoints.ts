import {
  DomainError,
  ErrorCode,
  GpuLeasesCreate,
  GpuLeasesRelease,
  GpuNodesGet,
  GpuRoute,
  GpuRouteReportFailure,
  type GpuRouteReply,
} from '@lattice/contracts';
import type { Logger } from '@lattice/logging';
import type { RpcClient } from '@lattice/messaging';
import { serviceContext } from '@lattice/request-context';
import {
  held,
  type EndpointRequest,
  type EndpointSource,
  type HeldEndpoint,
  type ModelEndpoint,
} from './model-endpoints';

export const INFERENCE_WORKER = 'inference-worker';

const routed = (route: GpuRouteReply): ModelEndpoint => ({
  model: route.model,
  url: route.endpoint,
  node: route.node,
});

const nodesOf = (tried: readonly ModelEndpoint[]) =>
  [...new Set(tried.flatMap((e) => (e.node === null ? [] : [e.node])))].slice(0, 64);

/**
 * Routes from the GPU-node service (`gpu.v1.route`): a healthy node serving the model, picked
 * by health and free VRAM; after a failure, `gpu.v1.route.report-failure` counts it against
 * the node and names the next. No route (no node serves the model, or the service does not
 * answer) is `null`, so the caller may fall back.
 */
export class GpuRoutedEndpoints implements EndpointSource {
  constructor(
    private readonly rpc: RpcClient,
    private readonly logger: Logger,
  ) {}

  async first(request: EndpointRequest): Promise<HeldEndpoint | null> {
    return this.ask(request.model, () =>
      this.rpc.request(
        GpuRoute,
        { model: request.model, exclude: nodesOf(request.tried) },
        serviceContext(INFERENCE_WORKER),
      ),
    );
  }

  async next(
    request: EndpointRequest,
    failed: ModelEndpoint,
    error: string,
  ): Promise<HeldEndpoint | null> {
    if (failed.node === null) return this.first(request);
    return this.ask(request.model, () =>
      this.rpc.request(
        GpuRouteReportFailure,
        {
          model: request.model,
          node: failed.node!,
          error: error.slice(0, 500).replace(/[\p{Cc}]/gu, ' '),
          exclude: nodesOf(request.tried).filter((n) => n !== failed.node),
        },
        serviceContext(INFERENCE_WORKER),
      ),
    );
  }

  private async ask(
    model: string,
    call: () => Promise<GpuRouteReply>,
  ): Promise<HeldEndpoint | null> {
    try {
      return held(routed(await call()));
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      // no node serves the model, or gpu-nodes is away: usual where the configured endpoints
      // serve it; anything else (a refusal) says something is set up wrong
      const usual = [ErrorCode.Unavailable, ErrorCode.NotFound, ErrorCode.Timeout].includes(
        error.code,
      );
      this.logger[usual ? 'debug' : 'warn'](
        { model, code: error.code, err: error },
        'no route from gpu-nodes',
      );
      return null;
    }
  }
}

/**
 * A VRAM lease on a node serving the model (`gpu.v1.leases.create`, for the job's tenant),
 * and the endpoint that node serves it at; the lease is released after the call. For model
 * servers that load per tenant or per job, where the memory must be held while they run.
 */
export class GpuLeasedEndpoints implements EndpointSource {
  constructor(
    private readonly rpc: RpcClient,
    private readonly logger: Logger,
    /** The VRAM one call holds, by model; `*` for any other. */
    private readonly vramMiB: (model: string) => number,
    private readonly ttlSeconds = 120,
  ) {}

  async first(request: EndpointRequest): Promise<HeldEndpoint | null> {
    const ctx = serviceContext(INFERENCE_WORKER);
    let lease;
    try {
      lease = await this.rpc.request(
        GpuLeasesCreate,
        {
          vramMiB: this.vramMiB(request.model),
          model: request.model,
          ttlSeconds: this.ttlSeconds,
          tenantId: request.tenantId,
        },
        ctx,
      );
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      this.logger.debug({ model: request.model, code: error.code }, 'no VRAM lease from gpu-nodes');
      return null;
    }
    const release = async () => {
      await this.rpc
        .request(GpuLeasesRelease, { id: lease.id, tenantId: request.tenantId }, ctx)
        .catch((error: unknown) =>
          this.logger.warn(
            { err: error, lease: lease.id },
            'releasing a VRAM lease failed; it expires',
          ),
        );
    };
    try {
      const node = await this.rpc.request(GpuNodesGet, { id: lease.nodeId }, ctx);
      const served = node.serves.find((s) => s.model === request.model);
      if (!served) {
        await release();
        return null;
      }
      return { endpoint: { model: request.model, url: served.endpoint, node: node.name }, release };
    } catch (error) {
      await release();
      if (!(error instanceof DomainError)) throw error;
      return null;
    }
  }

  /** Counts the failure against the node; the next lease is left to the configured endpoints. */
  async next(
    request: EndpointRequest,
    failed: ModelEndpoint,
    error: string,
  ): Promise<HeldEndpoint | null> {
    if (failed.node === null) return null;
    await this.rpc
      .request(
        GpuRouteReportFailure,
        {
          model: request.model,
          node: failed.node,
          error: error.slice(0, 500).replace(/[\p{Cc}]/gu, ' '),
          exclude: [],
        },
        serviceContext(INFERENCE_WORKER),
      )
      .catch(() => undefined);
    return null;
  }
}
