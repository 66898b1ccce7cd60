import { AuditEvents, AuditStream } from '../audit/audit-event.schema';
import * as Auth from '../auth/auth.subjects';
import * as Gdpr from '../gdpr/gdpr.subjects';
import { TenantsGet, TenantsGetBySlug } from '../tenants/tenants.subjects';
import { serviceAccess, rpcContractsOf } from './service-access';

/** Users, roles, API keys and tokens: answers `auth.v1.*` and its share of `gdpr.v1.*`. */
export const authAccess = serviceAccess({
  service: 'auth',
  handles: [...rpcContractsOf(Auth), ...rpcContractsOf(Gdpr)],
  calls: [TenantsGet, TenantsGetBySlug],
  emits: [Auth.AuthApiKeyRevoked, Auth.AuthSigningKeyRotated],
  streams: [AuditStream],
  publishes: [AuditEvents],
});
