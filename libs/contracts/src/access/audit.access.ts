import { AuditEvents, AuditStream } from '../audit/audit-event.schema';
import * as Audit from '../audit/audit.subjects';
import * as Gdpr from '../gdpr/gdpr.subjects';
import { TenantsGet } from '../tenants/tenants.subjects';
import { serviceAccess, rpcContractsOf } from './service-access';

/** The audit trail: reads AUDIT, answers `audit.v1.*`, gathers `gdpr.v1.*` from every service. */
export const auditAccess = serviceAccess({
  service: 'audit',
  handles: [...rpcContractsOf(Audit), ...rpcContractsOf(Gdpr)],
  calls: [...rpcContractsOf(Gdpr), TenantsGet],
  streams: [AuditStream],
  consumes: [{ contract: AuditEvents, durable: 'audit-events' }],
});
