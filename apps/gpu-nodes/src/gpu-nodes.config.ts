import { z } from 'zod';
import { commonConfig, databaseConfig, port, variable, type ConfigOf } from '@lattice/config';

export const gpuNodesConfigSpec = {
  ...commonConfig,
  ...databaseConfig,
  GPU_NODES_HTTP_PORT: variable(
    port(8085),
    'Port of the GPU-node service health and metrics endpoints.',
  ),
  GPU_NODES_CUDA_CONTEXT_MIB: variable(
    z.coerce.number().int().min(0).max(4_096).default(400),
    'VRAM each lease is charged on top of what it asks for: one CUDA context (300-500 MiB on a V100).',
  ),
  GPU_NODES_SETTLE_TOLERANCE_MIB: variable(
    z.coerce.number().int().min(0).max(16_384).default(256),
    'How far a GPU may measure above what its leases account for before it takes no new lease.',
  ),
  GPU_NODES_SWEEP_MS: variable(
    z.coerce.number().int().min(50).max(600_000).default(1_000),
    'How often the service looks for nodes that stopped beating and leases that expired.',
  ),
  GPU_NODES_REJOIN_HEARTBEATS: variable(
    z.coerce.number().int().min(1).max(100).default(3),
    'Healthy heartbeats in a row a node that left routing needs to rejoin.',
  ),
  GPU_NODES_OFFLINE_AFTER_INTERVALS: variable(
    z.coerce.number().min(2).max(100).default(3),
    'Heartbeat intervals without a heartbeat after which a node is offline (it leaves routing earlier, once its score falls under 0.5).',
  ),
  GPU_NODES_CALLER_WINDOW_SECONDS: variable(
    z.coerce.number().int().min(1).max(3_600).default(60),
    'The window over which failures that callers report count against a node.',
  ),
};

export type GpuNodesConfig = ConfigOf<typeof gpuNodesConfigSpec>;
