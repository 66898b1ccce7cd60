import { bootstrapService } from '@lattice/service-runtime';
import { createAuditApp } from './audit.app';
import { auditConfigSpec } from './audit.config';

export function bootstrap(): Promise<void> {
  return bootstrapService('audit', auditConfigSpec, (config, logger) =>
    createAuditApp(config, logger, { migrate: process.argv.includes('--migrate') }),
  );
}
