import { AuditEvents, AuditStream } from '../audit/audit-event.schema';
import * as Gdpr from '../gdpr/gdpr.subjects';
import { InferenceStream } from '../inference/inference.subjects';
import * as Rag from '../rag/rag.subjects';
import {
  SchedulerJobsCancel,
  SchedulerJobsGet,
  SchedulerJobsSubmit,
} from '../scheduler/jobs.subjects';
import { TenantsQuotaCheck, UsageReports, UsageStream } from '../tenants/tenants.subjects';
import { WORKER_CALLS, WORKER_EVENTS } from './job-worker.access';
import { serviceAccess, rpcContractsOf } from './service-access';

/**
 * Collections, documents, retrieval and answers: answers `rag.v1.*` and the GDPR gathering,
 * records its changes in AUDIT, holds documents to the tenant's storage quota and answers to its
 * token quota, meters both to USAGE, submits each document's ingest to the scheduler and runs
 * those jobs as a worker of the `embedding` queue, submits answers as inference jobs, hears
 * their deltas and relays them to the gateway.
 */
export const ragAccess = serviceAccess({
  service: 'rag',
  handles: [...rpcContractsOf(Rag), ...rpcContractsOf(Gdpr)],
  calls: [
    ...WORKER_CALLS,
    SchedulerJobsSubmit,
    SchedulerJobsGet,
    SchedulerJobsCancel,
    TenantsQuotaCheck,
  ],
  listens: [...WORKER_EVENTS, InferenceStream],
  emits: [Rag.RagAnswerStream],
  streams: [AuditStream, UsageStream],
  publishes: [AuditEvents, UsageReports],
});
