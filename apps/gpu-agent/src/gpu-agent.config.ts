import { z } from 'zod';
import { commonConfig, integer, port, variable, type ConfigOf } from '@lattice/config';

export const gpuAgentConfigSpec = {
  ...commonConfig,
  GPU_AGENT_HTTP_PORT: variable(port(8088), 'Port of the GPU agent health and metrics endpoints.'),
  LATTICE_GPU_AGENT_INTERVAL_MS: variable(
    integer(100, 3_600_000, 5_000),
    'How often the agent reads its GPUs and publishes a heartbeat, in milliseconds.',
  ),
  LATTICE_GPU_AGENT_SOURCE: variable(
    z.enum(['dcgm-exporter', 'nvidia-smi']).default('dcgm-exporter'),
    'Where the agent reads its GPUs: the DCGM exporter, or nvidia-smi where no exporter runs.',
  ),
  LATTICE_GPU_AGENT_DCGM_URL: variable(
    z.url({ protocol: /^https?$/ }).default('http://localhost:9400/metrics'),
    "The DCGM exporter's metrics endpoint.",
  ),
  LATTICE_GPU_AGENT_NVIDIA_SMI: variable(
    z.string().min(1).default('nvidia-smi'),
    'The nvidia-smi program (a path, or a name on PATH).',
  ),
  LATTICE_GPU_AGENT_READ_TIMEOUT_MS: variable(
    integer(100, 60_000, 3_000),
    'How long one read of the exporter or nvidia-smi may take before it counts as failed.',
  ),
  LATTICE_GPU_AGENT_NODE_NAME: variable(
    z.string().min(1).max(253).optional(),
    "The node's name in the GPU registry; unset, the exporter's host label, else NODE_NAME, else the host name.",
  ),
  NODE_NAME: variable(
    z.string().min(1).max(253).optional(),
    'The Kubernetes node the agent runs on (the downward API spec.nodeName).',
  ),
};

export type GpuAgentConfig = ConfigOf<typeof gpuAgentConfigSpec>;
