import { join } from 'node:path';
import type { ServiceSpec } from './service-process';

/**
 * The simulated GPU node pool `npm start` runs on a machine without GPUs: one process serving
 * a DCGM-exporter-like endpoint per simulated node (four 16 GB V100s on one, two 32 GB on the
 * other), whose memory follows the VRAM leases, and the real GPU agent once per simulated node,
 * reading it. Every name they show says "simulated".
 */
export const SIMULATED_GPU_NODES = [
  { name: 'simulated-v100-16gb-0', gpus: '4x16', exporterPort: 9401, agentPort: 8088 },
  { name: 'simulated-v100-32gb-0', gpus: '2x32', exporterPort: 9402, agentPort: 8089 },
] as const;

export function simulatedGpuServices(common: Record<string, string>): ServiceSpec[] {
  const simulator: ServiceSpec = {
    name: 'gpu-simulator',
    entry: join('apps', 'gpu-agent', 'src', 'simulator', 'main.js'),
    env: {
      ...common,
      LATTICE_GPU_SIMULATOR_POOL: SIMULATED_GPU_NODES.map((n) => `${n.name}=${n.gpus}`).join(','),
      LATTICE_GPU_SIMULATOR_PORT: String(SIMULATED_GPU_NODES[0].exporterPort),
    },
    readyUrl: `http://127.0.0.1:${SIMULATED_GPU_NODES[0].exporterPort}/readyz`,
  };
  const agents = SIMULATED_GPU_NODES.map((node): ServiceSpec => ({
    name: `gpu-agent:${node.name}`,
    entry: join('apps', 'gpu-agent', 'src', 'main.js'),
    env: {
      ...common,
      GPU_AGENT_HTTP_PORT: String(node.agentPort),
      LATTICE_GPU_AGENT_DCGM_URL: `http://127.0.0.1:${node.exporterPort}/metrics`,
    },
    readyUrl: `http://127.0.0.1:${node.agentPort}/readyz`,
  }));
  return [simulator, ...agents];
}
