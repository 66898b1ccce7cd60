import { AuditInitial1764000000000 } from './1764000000000-audit-initial';

/** Every migration of the audit schema, in order. */
export const auditMigrations = [AuditInitial1764000000000];
