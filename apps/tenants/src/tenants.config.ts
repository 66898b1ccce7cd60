import {
  commonConfig,
  databaseConfig,
  integer,
  port,
  variable,
  type ConfigOf,
} from '@lattice/config';

export const tenantsConfigSpec = {
  ...commonConfig,
  ...databaseConfig,
  TENANTS_HTTP_PORT: variable(
    port(8081),
    'Port of the tenants service health and metrics endpoints.',
  ),
  TENANT_RETENTION_DAYS: variable(
    integer(0, 3650, 30),
    'Days a deleted tenant is kept, and can be reactivated, before it is purged.',
  ),
  TENANT_PURGE_INTERVAL_SECONDS: variable(
    integer(1, 86_400, 3_600),
    'How often the tenants service looks for deleted tenants past their retention.',
  ),
};

export type TenantsConfig = ConfigOf<typeof tenantsConfigSpec>;
