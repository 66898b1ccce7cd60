import { TenantsInitial1763900000000 } from './1763900000000-tenants-initial';

/** Every migration of the tenants schema, in order. */
export const tenantsMigrations = [TenantsInitial1763900000000];
