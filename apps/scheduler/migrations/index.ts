import { SchedulerInitial1766000000000 } from './1766000000000-scheduler-initial';
import { SchedulerMetering1766100000000 } from './1766100000000-scheduler-metering';

/** Every migration of the scheduler schema, in order. */
export const schedulerMigrations = [SchedulerInitial1766000000000, SchedulerMetering1766100000000];
