import { z } from 'zod';
import { HealthReply, PageQuery, Uuid, jsonObject, page } from '../common/common.schema';
import { storableJson, storedText, text } from '../common/text.schema';

export const PLANS = ['free', 'starter', 'professional', 'enterprise', 'custom'] as const;
export const Plan = z.enum(PLANS);
export type Plan = z.infer<typeof Plan>;

export const TENANT_STATUSES = ['active', 'suspended', 'deleted'] as const;
export const TenantStatus = z.enum(TENANT_STATUSES);
export type TenantStatus = z.infer<typeof TenantStatus>;

const MAX = Number.MAX_SAFE_INTEGER;

export const Quotas = z.object({
  requestsPerMinute: z.number().int().min(0).max(MAX),
  tokensPerMonth: z.number().int().min(0).max(MAX),
  storageBytes: z.number().int().min(0).max(MAX),
  gpuSecondsPerMonth: z.number().int().min(0).max(MAX),
  users: z.number().int().min(0).max(MAX),
  concurrentJobs: z.number().int().min(0).max(MAX),
  fairShareWeight: z.number().int().min(1).max(1000),
  /** Days the audit trail keeps the tenant's events. */
  auditRetentionDays: z.number().int().min(1).max(3650),
});
export type Quotas = z.infer<typeof Quotas>;

export const QuotaOverrides = Quotas.partial().strict();
export type QuotaOverrides = z.infer<typeof QuotaOverrides>;

export const Slug = z
  .string()
  .min(3)
  .max(63)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])$/, 'lowercase letters, digits and inner hyphens');

/** Free-form tenant settings: a JSON object, bounded in depth and size. */
export const TenantSettings = jsonObject('settings', { maxDepth: 8, maxBytes: 16_384 });

export const TenantView = z.object({
  id: Uuid,
  slug: Slug,
  name: storedText(),
  plan: Plan,
  status: TenantStatus,
  settings: storableJson(z.record(storedText(), z.json())),
  quotaOverrides: QuotaOverrides,
  quotas: Quotas,
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  suspendedAt: z.iso.datetime().nullable(),
  deletedAt: z.iso.datetime().nullable(),
  purgeAfter: z.iso.datetime().nullable(),
  version: z.number().int(),
});
export type TenantView = z.infer<typeof TenantView>;

const Name = text({ min: 1, max: 200, trim: true });

/** The slug that names the platform tenant at login; no tenant may take it. */
export const PLATFORM_TENANT_SLUG = 'platform';

export const CreateTenantRequest = z
  .object({
    slug: Slug.refine((s) => s !== PLATFORM_TENANT_SLUG, 'this slug is reserved for the platform'),
    name: Name,
    plan: Plan.default('starter'),
    settings: TenantSettings.default({}),
    quotaOverrides: QuotaOverrides.optional(),
  })
  .strict()
  .refine((t) => t.quotaOverrides === undefined || t.plan === 'custom', {
    message: 'quota overrides are only accepted on the custom plan',
    path: ['quotaOverrides'],
  });
export type CreateTenantRequest = z.infer<typeof CreateTenantRequest>;

export const UpdateTenantBody = z
  .object({
    name: Name.optional(),
    plan: Plan.optional(),
    settings: TenantSettings.optional(),
    quotaOverrides: QuotaOverrides.optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'at least one field must change');
export type UpdateTenantBody = z.infer<typeof UpdateTenantBody>;

export const UpdateTenantRequest = z.object({ id: Uuid, changes: UpdateTenantBody }).strict();

export const TenantIdRequest = z.object({ id: Uuid }).strict();
export const TenantSlugRequest = z.object({ slug: Slug }).strict();

export const DeleteTenantRequest = z.object({ id: Uuid }).strict();
export const DeleteTenantReply = TenantView;

export const ListTenantsQuery = PageQuery.extend({
  status: TenantStatus.optional(),
  plan: Plan.optional(),
  slug: Slug.optional(),
  q: text({ min: 1, max: 100, trim: true }).optional(),
}).strict();
export type ListTenantsQuery = z.infer<typeof ListTenantsQuery>;

export const TenantPage = page(TenantView);
export type TenantPage = z.infer<typeof TenantPage>;

export const TenantsHealth = HealthReply;

export const TENANT_EVENT_TYPES = [
  'created',
  'updated',
  'suspended',
  'reactivated',
  'deleted',
  'purged',
] as const;

export const TenantChanged = z.object({
  eventId: Uuid,
  type: z.enum(TENANT_EVENT_TYPES),
  tenantId: Uuid,
  slug: Slug,
  version: z.number().int(),
  occurredAt: z.iso.datetime(),
});
export type TenantChanged = z.infer<typeof TenantChanged>;
