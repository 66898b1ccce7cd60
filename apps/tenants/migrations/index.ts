import { TenantsInitial1763900000000 } from './1763900000000-tenants-initial';
import { TenantsFreePlan1765000000000 } from './1765000000000-tenants-free-plan';

/** Every migration of the tenants schema, in order. */
export const tenantsMigrations = [TenantsInitial1763900000000, TenantsFreePlan1765000000000];
