import { AuditInitial1764000000000 } from './1764000000000-audit-initial';
import { AuditCheckpointKinds1765000000000 } from './1765000000000-audit-checkpoint-kinds';

/** Every migration of the audit schema, in order. */
export const auditMigrations = [AuditInitial1764000000000, AuditCheckpointKinds1765000000000];
