import { SchedulerInitial1766000000000 } from './1766000000000-scheduler-initial';

/** Every migration of the scheduler schema, in order. */
export const schedulerMigrations = [SchedulerInitial1766000000000];
