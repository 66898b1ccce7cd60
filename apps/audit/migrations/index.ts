import { AuditInitial1764000000000 } from './1764000000000-audit-initial';
import { AuditCheckpointKinds1765000000000 } from './1765000000000-audit-checkpoint-kinds';
import { AuditStagingGrant1766000000000 } from './1766000000000-audit-staging-grant';
import { AuditActorEnvelope1767000000000 } from './1767000000000-audit-actor-envelope';

/** Every migration of the audit schema, in order. */
export const auditMigrations = [
  AuditInitial1764000000000,
  AuditCheckpointKinds1765000000000,
  AuditStagingGrant1766000000000,
  AuditActorEnvelope1767000000000,
];
