import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { GPU_NODE_STATES, type GpuNodeView } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { MetricsRegistry } from '@lattice/service-runtime';
import { NodeRepository } from '../registry/node.repository';
import { RegistryService } from '../registry/registry.service';

/** How long one read of the fleet serves scrapes (every gauge is collected from one read). */
const SNAPSHOT_MS = 1_000;

/**
 * Per-GPU and per-node gauges, read from the registry when scraped, so every replica reports
 * the whole fleet as it stands in the database, named after DCGM's figures where they match.
 */
@Injectable()
export class GpuMetrics implements OnModuleInit {
  private snapshot?: { at: number; nodes: Promise<GpuNodeView[]> };

  constructor(
    private readonly metrics: MetricsRegistry,
    private readonly scope: TenantScope,
    private readonly nodes: NodeRepository,
    private readonly registry: RegistryService,
  ) {}

  onModuleInit(): void {
    const registers = [this.metrics.registry];
    const gpuLabels = ['node', 'gpu', 'uuid', 'model'] as const;
    const perGpu = (
      name: string,
      help: string,
      value: (g: GpuNodeView['gpus'][number]) => number | null,
    ) => {
      const read = () => this.read();
      new Gauge({
        name,
        help,
        labelNames: gpuLabels,
        registers,
        async collect() {
          this.reset();
          for (const node of await read())
            for (const g of node.gpus) {
              const v = value(g);
              if (v !== null)
                this.set(
                  { node: node.name, gpu: String(g.index), uuid: g.uuid, model: g.model },
                  v,
                );
            }
        },
      });
    };
    perGpu('lattice_gpu_memory_total_mib', 'Frame buffer of the GPU, in MiB', (g) => g.totalMiB);
    perGpu(
      'lattice_gpu_memory_used_mib',
      'Frame buffer in use, as the agent last read it, in MiB',
      (g) => g.usedMiB,
    );
    perGpu(
      'lattice_gpu_memory_free_mib',
      'Frame buffer free, as the agent last read it, in MiB',
      (g) => g.freeMiB,
    );
    perGpu(
      'lattice_gpu_memory_reserved_mib',
      'Frame buffer the driver reserves, in MiB',
      (g) => g.reservedMiB,
    );
    perGpu(
      'lattice_gpu_memory_leased_mib',
      'Frame buffer held by active VRAM leases, CUDA contexts included, in MiB',
      (g) => g.leasedMiB,
    );
    perGpu('lattice_gpu_leases', 'Active VRAM leases on the GPU', (g) => g.leaseCount);
    perGpu(
      'lattice_gpu_utilization_percent',
      'GPU utilisation, in percent',
      (g) => g.utilizationPercent,
    );
    perGpu(
      'lattice_gpu_temperature_celsius',
      'GPU temperature, in degrees Celsius',
      (g) => g.temperatureC,
    );
    perGpu('lattice_gpu_power_watts', 'GPU power draw, in watts', (g) => g.powerWatts);
    perGpu(
      'lattice_gpu_health_score',
      'Health score of the GPU, 0 (do not use) to 1',
      (g) => g.score,
    );
    perGpu(
      'lattice_gpu_unsettled',
      '1 while the GPU measures more use than its leases account for',
      (g) => (g.unsettled ? 1 : 0),
    );
    perGpu('lattice_gpu_lost', '1 when the GPU fell off the bus or the driver lost it', (g) =>
      g.lost ? 1 : 0,
    );

    const read = () => this.read();
    new Gauge({
      name: 'lattice_gpu_node_health_score',
      help: 'Health score of the node, 0 (do not use) to 1',
      labelNames: ['node'],
      registers,
      async collect() {
        this.reset();
        for (const node of await read()) this.set({ node: node.name }, node.score);
      },
    });
    new Gauge({
      name: 'lattice_gpu_node_state',
      help: 'The node state: 1 for the state it is in, 0 for the others',
      labelNames: ['node', 'state'],
      registers,
      async collect() {
        this.reset();
        for (const node of await read())
          for (const state of GPU_NODE_STATES)
            this.set({ node: node.name, state }, node.state === state ? 1 : 0);
      },
    });
    new Gauge({
      name: 'lattice_gpu_node_routable',
      help: '1 while calls are routed to the node and leases placed on it',
      labelNames: ['node'],
      registers,
      async collect() {
        this.reset();
        for (const node of await read()) this.set({ node: node.name }, node.routable ? 1 : 0);
      },
    });
    new Gauge({
      name: 'lattice_gpu_node_heartbeat_age_seconds',
      help: 'Seconds since the node last beat',
      labelNames: ['node'],
      registers,
      async collect() {
        this.reset();
        const now = Date.now();
        for (const node of await read())
          if (node.lastHeartbeatAt)
            this.set({ node: node.name }, (now - Date.parse(node.lastHeartbeatAt)) / 1000);
      },
    });
    new Gauge({
      name: 'lattice_gpu_node_caller_error_rate',
      help: 'Share of routed calls to the node that callers reported failed, in the current window',
      labelNames: ['node'],
      registers,
      async collect() {
        this.reset();
        for (const node of await read()) this.set({ node: node.name }, node.callerErrorRate);
      },
    });
  }

  /** One read of the fleet shared by the gauges of a scrape. */
  private read(): Promise<GpuNodeView[]> {
    const now = Date.now();
    if (!this.snapshot || now - this.snapshot.at > SNAPSHOT_MS) {
      const nodes = this.scope
        .runForDispatch(async (em) => {
          const rows = await this.nodes.list(em, {});
          const gpus = await this.nodes.gpusOf(
            em,
            rows.map((n) => n.id),
          );
          return rows.map((n) => this.registry.view(n, gpus));
        })
        .catch(() => [] as GpuNodeView[]);
      this.snapshot = { at: now, nodes };
    }
    return this.snapshot.nodes;
  }
}
