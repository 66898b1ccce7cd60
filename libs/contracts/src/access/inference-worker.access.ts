import {
  GpuLeasesCreate,
  GpuLeasesRelease,
  GpuNodesGet,
  GpuRoute,
  GpuRouteReportFailure,
} from '../gpu/gpu.subjects';
import { InferenceStream } from '../inference/inference.subjects';
import { WORKER_CALLS, WORKER_EVENTS } from './job-worker.access';
import { serviceAccess } from './service-access';

/**
 * The inference worker pool: runs chat completions through `libs/worker`, takes a route or a
 * VRAM lease from the GPU-node service, and streams each answer's deltas.
 */
export const inferenceWorkerAccess = serviceAccess({
  service: 'inference-worker',
  calls: [
    ...WORKER_CALLS,
    GpuRoute,
    GpuRouteReportFailure,
    GpuLeasesCreate,
    GpuLeasesRelease,
    GpuNodesGet,
  ],
  listens: [...WORKER_EVENTS],
  emits: [InferenceStream],
});
