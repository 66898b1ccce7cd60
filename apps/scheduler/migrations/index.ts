import { SchedulerInitial1766000000000 } from './1766000000000-scheduler-initial';
import { WorkerDrains1766100000000 } from './1766100000000-worker-drains';
import { SchedulerMetering1766200000000 } from './1766200000000-scheduler-metering';
import { UsageMessageIds1766300000000 } from './1766300000000-usage-message-ids';
import { JobProgress1766400000000 } from './1766400000000-job-progress';

/** Every migration of the scheduler schema, in order. */
export const schedulerMigrations = [
  SchedulerInitial1766000000000,
  WorkerDrains1766100000000,
  SchedulerMetering1766200000000,
  UsageMessageIds1766300000000,
  JobProgress1766400000000,
];
