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
import { serviceAccess, rpcContractsOf } from './service-access';

/**
 * Collections, documents, retrieval and answers: answers `rag.v1.*` and the GDPR gathering,
 * submits answers as inference jobs and hears their deltas, relays them to the gateway, and
 * records its changes in AUDIT and the tokens answers use in USAGE.
 */
export const ragAccess = serviceAccess({
  service: 'rag',
  handles: [...rpcContractsOf(Rag), ...rpcContractsOf(Gdpr)],
  calls: [TenantsQuotaCheck, SchedulerJobsSubmit, SchedulerJobsGet, SchedulerJobsCancel],
  listens: [InferenceStream],
  emits: [Rag.RagAnswerStream],
  streams: [AuditStream, UsageStream],
  publishes: [AuditEvents, UsageReports],
});
