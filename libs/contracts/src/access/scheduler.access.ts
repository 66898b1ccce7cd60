import { AuditEvents, AuditStream } from '../audit/audit-event.schema';
import * as Drain from '../scheduler/drain.subjects';
import * as Jobs from '../scheduler/jobs.subjects';
import * as Scheduler from '../scheduler/scheduler.subjects';
import {
  TenantsGet,
  TenantsQuotaCheck,
  UsageReports,
  UsageStream,
} from '../tenants/tenants.subjects';
import { serviceAccess, rpcContractsOf } from './service-access';

/** Queues and jobs: answers `scheduler.v1.*`, keeps every job's changes in JOB_EVENTS. */
export const schedulerAccess = serviceAccess({
  service: 'scheduler',
  handles: [...rpcContractsOf(Jobs), ...rpcContractsOf(Scheduler), ...rpcContractsOf(Drain)],
  calls: [TenantsGet, TenantsQuotaCheck],
  streams: [AuditStream, Jobs.JobEventsStream, UsageStream],
  publishes: [AuditEvents, Jobs.JobEvents, UsageReports],
  emits: [Jobs.SchedulerWorkReady, Jobs.SchedulerJobCancelled],
});
