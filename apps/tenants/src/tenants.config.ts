import { z } from 'zod';
import { commonConfig, databaseConfig, port, variable, type ConfigOf } from '@lattice/config';

export const tenantsConfigSpec = {
  ...commonConfig,
  ...databaseConfig,
  TENANTS_HTTP_PORT: variable(
    port(8081),
    'Port of the tenants service health and metrics endpoints.',
  ),
  TENANT_RETENTION_DAYS: variable(
    z.coerce.number().int().min(0).max(3650).default(30),
    'Days a deleted tenant is kept, and can be reactivated, before it is purged.',
  ),
  TENANT_PURGE_INTERVAL_SECONDS: variable(
    z.coerce.number().int().min(1).max(86_400).default(3_600),
    'How often the tenants service looks for deleted tenants past their retention.',
  ),
};

export type TenantsConfig = ConfigOf<typeof tenantsConfigSpec>;
