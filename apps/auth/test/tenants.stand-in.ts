import { randomUUID } from 'node:crypto';
import type { NatsConnection, Subscription } from 'nats';
import {
  ErrorCode,
  TenantsCreate,
  TenantsDelete,
  TenantsGet,
  TenantsGetBySlug,
  TenantsReactivate,
  TenantsSuspend,
  type TenantStatus,
  type TenantView,
} from '@lattice/contracts';
import type { SubjectNamespace } from '@lattice/messaging';
import { respond } from '@lattice/testing';

const notFound = { err: { code: ErrorCode.NotFound, message: 'no such tenant' } };

/**
 * The tenants service as far as auth reads it: tenants by id and slug with their status, and
 * the lifecycle calls the tests make. The services together are tested end to end (e2e/).
 */
export class TenantsStandIn {
  private readonly tenants = new Map<string, TenantView>();
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly nats: NatsConnection,
    private readonly ns: SubjectNamespace,
  ) {}

  start(): this {
    const on = <C extends Parameters<typeof respond>[2]>(
      contract: C,
      handler: Parameters<typeof respond<C>>[4],
    ) => this.subscriptions.push(respond(this.nats, this.ns, contract, 'tenants', handler));
    on(TenantsCreate, ({ slug, name, plan }) => {
      if ([...this.tenants.values()].some((t) => t.slug === slug))
        return { err: { code: ErrorCode.Conflict, message: 'the slug is taken' } };
      const now = new Date().toISOString();
      const tenant: TenantView = {
        id: randomUUID(),
        slug,
        name,
        plan,
        status: 'active',
        settings: {},
        quotaOverrides: {},
        quotas: {
          requestsPerMinute: 600,
          tokensPerMonth: 1_000_000,
          storageBytes: 1_000_000,
          gpuSecondsPerMonth: 3600,
          users: 100,
          concurrentJobs: 4,
          fairShareWeight: 1,
          auditRetentionDays: 90,
        },
        createdAt: now,
        updatedAt: now,
        suspendedAt: null,
        deletedAt: null,
        purgeAfter: null,
        version: 1,
      };
      this.tenants.set(tenant.id, tenant);
      return tenant;
    });
    on(TenantsGet, ({ id }) => this.tenants.get(id) ?? notFound);
    on(
      TenantsGetBySlug,
      ({ slug }) => [...this.tenants.values()].find((t) => t.slug === slug) ?? notFound,
    );
    on(TenantsSuspend, ({ id }) => this.move(id, 'suspended'));
    on(TenantsReactivate, ({ id }) => this.move(id, 'active'));
    on(TenantsDelete, ({ id }) => this.move(id, 'deleted'));
    return this;
  }

  stop(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }

  private move(id: string, status: TenantStatus): TenantView | typeof notFound {
    const tenant = this.tenants.get(id);
    if (!tenant) return notFound;
    const now = new Date().toISOString();
    const moved: TenantView = {
      ...tenant,
      status,
      suspendedAt: status === 'suspended' ? now : null,
      deletedAt: status === 'deleted' ? now : null,
      updatedAt: now,
      version: tenant.version + 1,
    };
    this.tenants.set(id, moved);
    return moved;
  }
}
