import { subject } from '../subject';
import { DrainWorkersRequest, WorkerDrainStates, WorkerIdsRequest } from './drain.schema';

/**
 * Drain-first scale-in, asked by the scaling operator before it lowers a worker pool's
 * replicas: drain the workers that hold the least work (the scheduler leases them nothing more
 * while they finish what they hold), read how much each still holds, and undo a drain when the
 * scale-in is abandoned. Only the operator (a service) calls them.
 */
export const SchedulerWorkersDrain = subject(
  'scheduler.v1.workers.drain',
  DrainWorkersRequest,
  WorkerDrainStates,
);
export const SchedulerWorkersDrainState = subject(
  'scheduler.v1.workers.drain-state',
  WorkerIdsRequest,
  WorkerDrainStates,
);
export const SchedulerWorkersUndrain = subject(
  'scheduler.v1.workers.undrain',
  WorkerIdsRequest,
  WorkerDrainStates,
);
