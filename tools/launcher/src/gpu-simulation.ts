import { join } from 'node:path';
import type { ServiceSpec } from './service-process';

/**
 * The simulated GPU node pool `npm start` runs on a machine without GPUs: one process serving
 * a DCGM-exporter-like endpoint per simulated node (four 16 GB V100s on one, two 32 GB on the
 * other), whose memory follows the VRAM leases, and the real GPU agent once per simulated node,
 * reading it. Every name they show says "simulated".
 */
export const SIMULATED_GPU_NODES = [
  { name: 'simulated-v100-16gb-0', gpus: '4x16' },
  { name: 'simulated-v100-32gb-0', gpus: '2x32' },
] as const;

/** Where each simulated node's exporter and its agent listen, in the order of the nodes. */
export interface SimulatedGpuPorts {
  exporters: readonly number[];
  agents: readonly number[];
}

export const DEFAULT_SIMULATED_GPU_PORTS: SimulatedGpuPorts = {
  exporters: [9401, 9402],
  agents: [8088, 8089],
};

export function simulatedGpuServices(
  common: Record<string, string>,
  ports: SimulatedGpuPorts = DEFAULT_SIMULATED_GPU_PORTS,
): ServiceSpec[] {
  const simulator: ServiceSpec = {
    name: 'gpu-simulator',
    entry: join('apps', 'gpu-agent', 'src', 'simulator', 'main.js'),
    env: {
      ...common,
      LATTICE_GPU_SIMULATOR_POOL: SIMULATED_GPU_NODES.map((n) => `${n.name}=${n.gpus}`).join(','),
      LATTICE_GPU_SIMULATOR_PORTS: ports.exporters.join(','),
    },
    readyUrl: `http://127.0.0.1:${ports.exporters[0]}/readyz`,
  };
  const agents = SIMULATED_GPU_NODES.map((node, i): ServiceSpec => ({
    name: `gpu-agent:${node.name}`,
    entry: join('apps', 'gpu-agent', 'src', 'main.js'),
    env: {
      ...common,
      GPU_AGENT_HTTP_PORT: String(ports.agents[i]),
      LATTICE_GPU_AGENT_DCGM_URL: `http://127.0.0.1:${ports.exporters[i]}/metrics`,
    },
    readyUrl: `http://127.0.0.1:${ports.agents[i]}/readyz`,
  }));
  return [simulator, ...agents];
}
