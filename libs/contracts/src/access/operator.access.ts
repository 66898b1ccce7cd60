import { GpuMemoryQuerySubject } from '../gpu/gpu.subjects';
import {
  SchedulerWorkersDrain,
  SchedulerWorkersDrainState,
  SchedulerWorkersUndrain,
} from '../scheduler/drain.subjects';
import { SchedulerQueueDepth } from '../scheduler/scheduler.subjects';
import { serviceAccess } from './service-access';

/**
 * The scaling operator: reads queue depths and GPU memory, and any consumer's backlog; drains a
 * worker pool's workers before it scales the pool in.
 */
export const operatorAccess = serviceAccess({
  service: 'operator',
  calls: [
    SchedulerQueueDepth,
    GpuMemoryQuerySubject,
    SchedulerWorkersDrain,
    SchedulerWorkersDrainState,
    SchedulerWorkersUndrain,
  ],
  inspectsConsumers: true,
});
