import { hostname } from 'node:os';
import { Module, type INestApplication } from '@nestjs/common';
import { GpuAgentHeartbeat } from '@lattice/contracts';
import type { Logger } from '@lattice/logging';
import { EventBus, connectNats } from '@lattice/messaging';
import {
  Clock,
  LOGGER,
  MetricsRegistry,
  RuntimeModule,
  SystemClock,
  defineService,
  listenService,
} from '@lattice/service-runtime';
import type { NatsConnection } from 'nats';
import { gpuAgentConfigSpec, type GpuAgentConfig } from './gpu-agent.config';
import { HEARTBEAT_INTERVAL_MS, HeartbeatJob } from './heartbeat/heartbeat.job';
import { HeartbeatService } from './heartbeat/heartbeat.service';
import { DcgmExporterSource } from './sources/dcgm-exporter.source';
import type { GpuSource } from './sources/gpu-source';
import { NvidiaSmiSource } from './sources/nvidia-smi.source';

export interface GpuAgentAppOptions {
  clock?: Clock;
  /** Where the GPUs are read; by default what the configuration names. */
  source?: GpuSource;
}

export function gpuSource(config: GpuAgentConfig): GpuSource {
  return config.LATTICE_GPU_AGENT_SOURCE === 'nvidia-smi'
    ? new NvidiaSmiSource(
        config.LATTICE_GPU_AGENT_NVIDIA_SMI,
        config.LATTICE_GPU_AGENT_READ_TIMEOUT_MS,
      )
    : new DcgmExporterSource(
        config.LATTICE_GPU_AGENT_DCGM_URL,
        config.LATTICE_GPU_AGENT_READ_TIMEOUT_MS,
      );
}

/** Logs the connection going and coming back; the client reconnects by itself. */
async function logConnection(nats: NatsConnection, logger: Logger): Promise<void> {
  for await (const status of nats.status()) {
    if (status.type === 'disconnect') logger.warn({ server: status.data }, 'NATS connection lost');
    if (status.type === 'reconnect') logger.info({ server: status.data }, 'NATS connection back');
  }
}

/**
 * The GPU agent, one per GPU node: reads the node's GPUs from the DCGM exporter (or nvidia-smi)
 * and publishes a heartbeat with one reading per GPU every interval. No database and no API
 * beyond health and metrics. Returned listening.
 */
export async function createGpuAgentApp(
  config: GpuAgentConfig,
  logger: Logger,
  options: GpuAgentAppOptions = {},
): Promise<INestApplication> {
  const nats = await connectNats(config.NATS_URL, 'lattice-gpu-agent');
  void logConnection(nats, logger);
  const source = options.source ?? gpuSource(config);
  const clock = options.clock ?? new SystemClock();

  @Module({
    providers: [
      { provide: Clock, useValue: clock },
      { provide: HEARTBEAT_INTERVAL_MS, useValue: config.LATTICE_GPU_AGENT_INTERVAL_MS },
      {
        provide: HeartbeatService,
        inject: [EventBus, Clock, LOGGER, MetricsRegistry],
        useFactory: (bus: EventBus, c: Clock, log: Logger, metrics: MetricsRegistry) =>
          new HeartbeatService(
            source,
            (heartbeat) => bus.publish(GpuAgentHeartbeat, heartbeat),
            c,
            log,
            {
              intervalMs: config.LATTICE_GPU_AGENT_INTERVAL_MS,
              nodeName: config.LATTICE_GPU_AGENT_NODE_NAME,
              kubeNode: config.NODE_NAME,
              fallbackName: config.NODE_NAME ?? hostname(),
            },
            metrics.registry,
          ),
      },
      HeartbeatJob,
    ],
  })
  class HeartbeatModule {}

  @Module({
    imports: [
      RuntimeModule.forRoot({
        service: 'gpu-agent',
        nats,
        logger,
        namespace: config.LATTICE_NAMESPACE,
        internalSecret: config.LATTICE_INTERNAL_SECRET,
      }),
      HeartbeatModule,
    ],
  })
  class GpuAgentAppModule {}

  return listenService(GpuAgentAppModule, {
    service: 'gpu-agent',
    natsUrl: config.NATS_URL,
    namespace: config.LATTICE_NAMESPACE,
    logger,
    port: config.GPU_AGENT_HTTP_PORT,
    host: config.LATTICE_BIND_HOST,
  });
}

export const gpuAgentService = defineService({
  name: 'gpu-agent',
  config: gpuAgentConfigSpec,
  create: (config, logger) => createGpuAgentApp(config, logger),
  started: (config) => ({
    port: config.GPU_AGENT_HTTP_PORT,
    source: config.LATTICE_GPU_AGENT_SOURCE,
    intervalMs: config.LATTICE_GPU_AGENT_INTERVAL_MS,
  }),
});
