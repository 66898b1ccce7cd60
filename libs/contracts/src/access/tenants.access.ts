import * as Tenants from '../tenants/tenants.subjects';
import { serviceAccess, rpcContractsOf } from './service-access';

/** Tenants, plans, quotas and usage: answers `tenants.v1.*`, keeps tenant events and usage. */
export const tenantsAccess = serviceAccess({
  service: 'tenants',
  handles: rpcContractsOf(Tenants),
  streams: [Tenants.TenantEventsStream, Tenants.UsageStream],
  publishes: [Tenants.TenantEvents],
  consumes: [{ contract: Tenants.UsageReports, durable: 'tenants-usage' }],
});
