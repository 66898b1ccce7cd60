import { Module, type DynamicModule } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  Clock,
  SystemClock,
  databaseProviders,
  usageOutboxProvider,
} from '@lattice/service-runtime';
import { HealthSweepJob, SWEEP_INTERVAL_MS } from './health/health-sweep.job';
import { HeartbeatListener } from './health/heartbeat.listener';
import {
  HEALTH_SETTINGS,
  NodeHealthService,
  type HealthSettings,
} from './health/node-health.service';
import { LeaseEndings } from './leases/lease-endings';
import { LeaseHandlers } from './leases/lease.handlers';
import { LeaseRepository } from './leases/lease.repository';
import { LeaseService, PLACEMENT_SETTINGS, type PlacementSettings } from './leases/lease.service';
import { MemoryHandlers } from './memory/memory.handlers';
import { MemoryService } from './memory/memory.service';
import { GpuMetrics } from './metrics/gpu-metrics';
import { NodeRepository } from './registry/node.repository';
import { RegistryHandlers } from './registry/registry.handlers';
import { RegistryService } from './registry/registry.service';
import { RoutingHandlers } from './routing/routing.handlers';
import { RoutingService } from './routing/routing.service';
import type { GpuNodesConfig } from './gpu-nodes.config';

export interface GpuNodesModuleOptions {
  clock?: Clock;
  /** Runs the sweep (late nodes, lease expiry); tests that sweep by hand turn it off. */
  sweep?: boolean;
}

@Module({})
export class GpuNodesModule {
  static forRoot(
    config: GpuNodesConfig,
    dataSource: DataSource,
    options: GpuNodesModuleOptions = {},
  ): DynamicModule {
    const placement: PlacementSettings = {
      cudaContextMiB: config.GPU_NODES_CUDA_CONTEXT_MIB,
      settleToleranceMiB: config.GPU_NODES_SETTLE_TOLERANCE_MIB,
    };
    const health: HealthSettings = {
      health: {
        rejoinAfter: config.GPU_NODES_REJOIN_HEARTBEATS,
        offlineAfterIntervals: config.GPU_NODES_OFFLINE_AFTER_INTERVALS,
      },
      callerWindowMs: config.GPU_NODES_CALLER_WINDOW_SECONDS * 1000,
      defaultIntervalMs: 5_000,
    };
    return {
      module: GpuNodesModule,
      controllers: [RegistryHandlers, LeaseHandlers, RoutingHandlers, MemoryHandlers],
      providers: [
        ...databaseProviders(dataSource),
        { provide: Clock, useValue: options.clock ?? new SystemClock() },
        { provide: PLACEMENT_SETTINGS, useValue: placement },
        { provide: HEALTH_SETTINGS, useValue: health },
        { provide: SWEEP_INTERVAL_MS, useValue: config.GPU_NODES_SWEEP_MS },
        NodeRepository,
        LeaseRepository,
        // GPU-seconds of ended leases, relayed to USAGE
        usageOutboxProvider({ schema: 'gpu', table: 'outbox' }, { label: 'GPU usage reports' }),
        LeaseEndings,
        NodeHealthService,
        RegistryService,
        LeaseService,
        RoutingService,
        MemoryService,
        GpuMetrics,
        HeartbeatListener,
        ...(options.sweep === false ? [] : [HealthSweepJob]),
      ],
      exports: [NodeHealthService, LeaseService, RoutingService, RegistryService],
    };
  }
}
