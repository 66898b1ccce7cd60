import type { INestApplication } from '@nestjs/common';
import { UsageStream } from '@lattice/contracts';
import type { ServiceDatabaseOptions } from '@lattice/database';
import type { Logger } from '@lattice/logging';
import { ensureAuditStream, ensureStream } from '@lattice/messaging';
import {
  createServiceApp,
  defineService,
  serviceDatabase,
  type ServiceDatabaseConfig,
} from '@lattice/service-runtime';
import { gpuMigrations } from '../migrations';
import { gpuNodesConfigSpec, type GpuNodesConfig } from './gpu-nodes.config';
import { GpuNodesModule, type GpuNodesModuleOptions } from './gpu-nodes.module';

export function gpuNodesDatabase(config: ServiceDatabaseConfig): ServiceDatabaseOptions {
  return serviceDatabase(config, { schema: 'gpu', entities: [], migrations: gpuMigrations });
}

export interface GpuNodesAppOptions extends GpuNodesModuleOptions {
  /** Run migrations before starting (the launcher and tests do; a chart runs them as a Job). */
  migrate?: boolean;
}

/**
 * The GPU-node service: the registry and health of the GPU fleet from its agents' heartbeats,
 * VRAM leases, routing to healthy nodes, and the VRAM figures the operator scales on; plus an
 * HTTP listener for health and metrics. Returned listening.
 */
export async function createGpuNodesApp(
  config: GpuNodesConfig,
  logger: Logger,
  options: GpuNodesAppOptions = {},
): Promise<INestApplication> {
  return createServiceApp({
    service: 'gpu-nodes',
    config,
    logger,
    database: gpuNodesDatabase(config),
    migrate: options.migrate,
    streams: [
      ensureAuditStream,
      (nats, ns) =>
        ensureStream(nats, ns, UsageStream, { max_age: 30 * 24 * 3600 * 1_000_000_000 }),
    ],
    auditRecorder: true,
    http: { port: config.GPU_NODES_HTTP_PORT, host: config.LATTICE_BIND_HOST },
    module: (dataSource) => GpuNodesModule.forRoot(config, dataSource, options),
  });
}

export const gpuNodesService = defineService({
  name: 'gpu-nodes',
  config: gpuNodesConfigSpec,
  database: gpuNodesDatabase,
  create: (config, logger, { migrate }) => createGpuNodesApp(config, logger, { migrate }),
  started: (config) => ({ port: config.GPU_NODES_HTTP_PORT }),
});
