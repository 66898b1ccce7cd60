import { GpuMemoryQuerySubject } from '../gpu/gpu.subjects';
import { SchedulerQueueDepth } from '../scheduler/scheduler.subjects';
import { serviceAccess } from './service-access';

/** The scaling operator: reads queue depths and GPU memory, and any consumer's backlog. */
export const operatorAccess = serviceAccess({
  service: 'operator',
  calls: [SchedulerQueueDepth, GpuMemoryQuerySubject],
  inspectsConsumers: true,
});
