import { subject, streamSubject } from '../subject';
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

/** Tenant lifecycle events; caches elsewhere invalidate on them. */
export const TENANT_EVENTS_STREAM = 'TENANT_EVENTS';
export const TenantEvents = streamSubject(TENANT_EVENTS_STREAM, 'tenants.v1.events', TenantChanged);

/** Usage reports from every service, counted once each by the tenants service. */
export const USAGE_STREAM = 'USAGE';
export const UsageReports = streamSubject(USAGE_STREAM, 'usage.v1.recorded', UsageRecorded);
