import { AuditEvents, AuditStream } from '../audit/audit-event.schema';
import * as Rag from '../rag/rag.subjects';
import { SchedulerJobsCancel, SchedulerJobsSubmit } from '../scheduler/jobs.subjects';
import { TenantsQuotaCheck, UsageReports, UsageStream } from '../tenants/tenants.subjects';
import { WORKER_CALLS, WORKER_EVENTS } from './job-worker.access';
import { serviceAccess, rpcContractsOf } from './service-access';

/**
 * Collections, documents and retrieval: answers `rag.v1.*`, records its changes in AUDIT,
 * holds documents to the tenant's storage quota and meters their bytes to USAGE, submits each
 * document's ingest to the scheduler and runs those jobs as a worker of the `embedding` queue.
 */
export const ragAccess = serviceAccess({
  service: 'rag',
  handles: [...rpcContractsOf(Rag)],
  calls: [...WORKER_CALLS, SchedulerJobsSubmit, SchedulerJobsCancel, TenantsQuotaCheck],
  listens: [...WORKER_EVENTS],
  streams: [AuditStream, UsageStream],
  publishes: [AuditEvents, UsageReports],
});
