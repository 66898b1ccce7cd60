import {
  SchedulerJobCancelled,
  SchedulerJobsComplete,
  SchedulerJobsFail,
  SchedulerJobsHeartbeat,
  SchedulerJobsLease,
  SchedulerJobsProgress,
  SchedulerJobsRelease,
  SchedulerJobsStart,
  SchedulerWorkReady,
  SchedulerWorkersRegister,
} from '../scheduler/jobs.subjects';
import { serviceAccess } from './service-access';

/** The calls every worker process makes to the scheduler (`libs/worker`). */
export const WORKER_CALLS = [
  SchedulerWorkersRegister,
  SchedulerJobsLease,
  SchedulerJobsHeartbeat,
  SchedulerJobsStart,
  SchedulerJobsProgress,
  SchedulerJobsComplete,
  SchedulerJobsFail,
  SchedulerJobsRelease,
] as const;

/** What a worker hears from the scheduler: work ready on its queue, a held job cancelled. */
export const WORKER_EVENTS = [SchedulerWorkReady, SchedulerJobCancelled] as const;

/**
 * A general worker pool running jobs through `libs/worker`; it signs only its own service
 * context. A pool with more to do (an inference worker calling the GPU-node service) declares
 * itself with these calls and events and its own.
 */
export const jobWorkerAccess = serviceAccess({
  service: 'job-worker',
  calls: [...WORKER_CALLS],
  listens: [...WORKER_EVENTS],
});
