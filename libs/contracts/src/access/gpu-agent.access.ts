import { GpuAgentHeartbeat, GpuLeaseEvents } from '../gpu/gpu.subjects';
import { serviceAccess } from './service-access';

/** A GPU node's agent: tells the node's heartbeat, with one reading per GPU. */
export const gpuAgentAccess = serviceAccess({
  service: 'gpu-agent',
  emits: [GpuAgentHeartbeat],
});

/**
 * The simulated GPU node pool of `npm start` (no GPU at hand): hears the lease events so its
 * simulated memory follows the leases. Never deployed by the chart.
 */
export const gpuSimulatorAccess = serviceAccess({
  service: 'gpu-simulator',
  listens: [GpuLeaseEvents],
});
