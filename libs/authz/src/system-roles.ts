import { PLATFORM_ADMIN_ROLE, type PermissionString } from '@lattice/contracts';

export interface RoleDefinition {
  name: string;
  description: string;
  /** Platform roles are held only by users of the platform tenant. */
  level: 'platform' | 'tenant';
  permissions: readonly PermissionString[];
}

const tenantRead = (...resources: string[]) =>
  resources.map((r) => `read:${r}:tenant` as PermissionString);

/** The roles every installation ships with. Tenants may add their own from these permissions. */
export const SYSTEM_ROLES: readonly RoleDefinition[] = [
  {
    name: PLATFORM_ADMIN_ROLE,
    description: 'Everything, in every tenant',
    level: 'platform',
    permissions: ['manage:all:platform'],
  },
  {
    name: 'platform-operator',
    description:
      'Runs the platform: reads every tenant, suspends them, manages GPUs, scaling and job queues',
    level: 'platform',
    permissions: [
      'read:Tenant:platform',
      'update:Tenant:platform',
      'read:Usage:platform',
      'read:User:platform',
      'read:Job:platform',
      'manage:Queue:platform',
      'read:AuditEvent:platform',
      'manage:GpuNode:platform',
      'read:GpuLease:platform',
      'read:Cluster:platform',
      'manage:ScalingPolicy:platform',
    ],
  },
  {
    name: 'tenant-owner',
    description: 'Everything within the tenant, including closing it',
    level: 'tenant',
    permissions: ['manage:all:tenant'],
  },
  {
    name: 'tenant-admin',
    description: 'Runs the tenant: its users, roles, keys and workloads; cannot close it',
    level: 'tenant',
    permissions: [
      'read:Tenant:tenant',
      'update:Tenant:tenant',
      'manage:User:tenant',
      'manage:ServiceAccount:tenant',
      'manage:ApiKey:tenant',
      'manage:Role:tenant',
      'manage:Job:tenant',
      'manage:Collection:tenant',
      'manage:Document:tenant',
      'manage:GpuLease:tenant',
      'read:AuditEvent:tenant',
      'read:Usage:tenant',
    ],
  },
  {
    name: 'developer',
    description: 'Builds on the tenant: its own jobs and API keys, the tenant documents',
    level: 'tenant',
    permissions: [
      ...tenantRead('Tenant', 'User', 'Job', 'Usage'),
      'manage:Job:own',
      'manage:ApiKey:own',
      'manage:Collection:tenant',
      'manage:Document:tenant',
      'manage:GpuLease:tenant',
    ],
  },
  {
    name: 'analyst',
    description: 'Reads workloads, documents and usage',
    level: 'tenant',
    permissions: tenantRead('Tenant', 'Job', 'Collection', 'Document', 'Usage'),
  },
  {
    name: 'viewer',
    description: 'Reads the tenant and its workloads',
    level: 'tenant',
    permissions: tenantRead('Tenant', 'User', 'Job', 'Collection', 'Document'),
  },
  {
    name: 'billing',
    description: 'Reads usage and changes the plan',
    level: 'tenant',
    permissions: ['read:Tenant:tenant', 'update:Tenant:tenant', 'read:Usage:tenant'],
  },
  {
    name: 'auditor',
    description: 'Reads the audit trail and who holds which role',
    level: 'tenant',
    permissions: tenantRead('Tenant', 'AuditEvent', 'User', 'Role', 'ServiceAccount', 'ApiKey'),
  },
  {
    name: 'service-account',
    description: 'What a workload calling the API needs: submit jobs and documents',
    level: 'tenant',
    permissions: [
      'read:Tenant:tenant',
      'create:Job:tenant',
      'read:Job:own',
      'read:Collection:tenant',
      'query:Collection:tenant',
      'create:Document:tenant',
      'read:Document:tenant',
      'manage:GpuLease:tenant',
    ],
  },
];

export const SYSTEM_ROLE_NAMES = new Set(SYSTEM_ROLES.map((r) => r.name));

export function systemRole(name: string): RoleDefinition | undefined {
  return SYSTEM_ROLES.find((r) => r.name === name);
}
