import { z } from 'zod';

/** `query`: ask a collection a question (an answer the model writes, on the tenant's tokens). */
export const ACTIONS = ['read', 'create', 'update', 'delete', 'query', 'manage'] as const;
export type Action = (typeof ACTIONS)[number];

export const RESOURCES = [
  'Tenant',
  'User',
  'ServiceAccount',
  'ApiKey',
  'Role',
  'AuditEvent',
  'Usage',
  'Job',
  'Queue',
  'Collection',
  'Document',
  'GpuNode',
  'GpuLease',
  'Cluster',
  'ScalingPolicy',
  'SigningKey',
] as const;
export type Resource = (typeof RESOURCES)[number];

/** Resources of the platform itself: no tenant role reaches them, whatever it says. */
export const PLATFORM_RESOURCES: readonly Resource[] = ['SigningKey', 'GpuNode', 'Cluster', 'ScalingPolicy'];

/**
 * How far a permission reaches: `platform` every tenant, `tenant` the holder's own tenant,
 * `own` only records the holder owns within it.
 */
export const SCOPES = ['platform', 'tenant', 'own'] as const;
export type Scope = (typeof SCOPES)[number];

/** A permission written as `action:Resource:scope`, for example `read:Job:own`. */
export const PermissionString = z
  .string()
  .regex(
    new RegExp(
      `^(${ACTIONS.join('|')}):(${[...RESOURCES, 'all'].join('|')}):(${SCOPES.join('|')})$`,
    ),
    'a permission looks like "read:Job:tenant"',
  );
export type PermissionString = z.infer<typeof PermissionString>;

export interface Permission {
  action: Action;
  resource: Resource | 'all';
  scope: Scope;
}

export function parsePermission(text: string): Permission {
  const [action, resource, scope] = PermissionString.parse(text).split(':') as [
    Action,
    Resource | 'all',
    Scope,
  ];
  return { action, resource, scope };
}

export function formatPermission(p: Permission): PermissionString {
  return `${p.action}:${p.resource}:${p.scope}`;
}
