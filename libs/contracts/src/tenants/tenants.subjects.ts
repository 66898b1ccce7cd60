import { event, stream, subject, streamSubject } from '../subject';
import {
  CreateTenantRequest,
  DeleteTenantReply,
  DeleteTenantRequest,
  ListTenantsQuery,
  TenantChanged,
  TenantIdRequest,
  TenantPage,
  TenantSlugRequest,
  TenantView,
  TenantsHealth,
  UpdateTenantRequest,
} from './tenant.schema';
import {
  QuotaCheckReply,
  QuotaCheckRequest,
  UsageRecorded,
  UsageReply,
  UsageRequest,
} from '../usage/usage.schema';
import { z } from 'zod';

export const TenantsCreate = subject('tenants.v1.create', CreateTenantRequest, TenantView);
export const TenantsGet = subject('tenants.v1.get', TenantIdRequest, TenantView);
export const TenantsGetBySlug = subject('tenants.v1.get-by-slug', TenantSlugRequest, TenantView);
export const TenantsList = subject('tenants.v1.list', ListTenantsQuery, TenantPage);
export const TenantsUpdate = subject('tenants.v1.update', UpdateTenantRequest, TenantView);
export const TenantsSuspend = subject('tenants.v1.suspend', TenantIdRequest, TenantView);
export const TenantsReactivate = subject('tenants.v1.reactivate', TenantIdRequest, TenantView);
export const TenantsDelete = subject('tenants.v1.delete', DeleteTenantRequest, DeleteTenantReply);
export const TenantsQuotaCheck = subject(
  'tenants.v1.quota.check',
  QuotaCheckRequest,
  QuotaCheckReply,
);
export const TenantsUsage = subject('tenants.v1.usage.get', UsageRequest, UsageReply);
export const TenantsHealthCheck = subject(
  'tenants.v1.health',
  z.object({}).strict(),
  TenantsHealth,
);

/** Tenant lifecycle events, on `tenants.v1.events.<type>`; caches elsewhere evict on them. */
export const TenantLifecycle = event('tenants.v1.events', TenantChanged, { suffixed: true });

/**
 * The same events, kept: the tenants service's outbox relays each into TENANT_EVENTS under its
 * event id, while listeners that can afford to miss one hear them as `TenantLifecycle`.
 */
export const TenantEventsStream = stream('TENANT_EVENTS', ['tenants.v1.events.>']);
export const TenantEvents = streamSubject(
  TenantEventsStream,
  TenantLifecycle.subject,
  TenantLifecycle.message,
);

/** Usage reports from every service, counted once each by the tenants service. */
export const UsageStream = stream('USAGE', ['usage.v1.>']);
export const UsageReports = streamSubject(UsageStream, 'usage.v1.recorded', UsageRecorded);
