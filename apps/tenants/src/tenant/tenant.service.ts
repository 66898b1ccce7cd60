import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  DomainError,
  ErrorCode,
  type CreateTenantRequest,
  type ListTenantsQuery,
  type TenantPage,
  type TenantView,
  type UpdateTenantBody,
} from '@lattice/contracts';
import { CursorCodec, TenantScope } from '@lattice/database';
import type { RequestContext } from '@lattice/request-context';
import { Clock } from '@lattice/service-runtime';
import type { EntityManager } from 'typeorm';
import { effectiveQuotas } from '../plans/plan-catalog';
import { TenantOutbox } from '../events/tenant-outbox';
import { TenantEntity } from './tenant.entity';
import { tenantAccess } from './tenant-access';
import { nextStatus, type LifecycleAction } from './tenant-lifecycle';
import { TenantRepository } from './tenant.repository';

export const TENANT_SETTINGS = Symbol('TENANT_SETTINGS');
export interface TenantSettingsConfig {
  /** How long a deleted tenant is kept (and can be reactivated) before it is purged. */
  retentionDays: number;
}

@Injectable()
export class TenantService {
  constructor(
    private readonly scope: TenantScope,
    private readonly tenants: TenantRepository,
    private readonly outbox: TenantOutbox,
    private readonly cursors: CursorCodec,
    private readonly clock: Clock,
    @Inject(TENANT_SETTINGS) private readonly settings: TenantSettingsConfig,
  ) {}

  async create(ctx: RequestContext, request: CreateTenantRequest): Promise<TenantView> {
    tenantAccess.create(ctx);
    const now = this.clock.now();
    const created = await this.scope.runAsPlatform(async (em) => {
      const tenant = await this.tenants.insert(
        em,
        Object.assign(new TenantEntity(), {
          id: randomUUID(),
          slug: request.slug,
          name: request.name,
          plan: request.plan,
          status: 'active',
          settings: request.settings,
          quotaOverrides: request.quotaOverrides ?? {},
          version: 1,
          createdAt: now,
          updatedAt: now,
          suspendedAt: null,
          deletedAt: null,
          purgeAfter: null,
        }),
      );
      await this.outbox.record(em, 'created', tenant, now);
      return tenant;
    });
    void this.outbox.kick();
    return toView(created);
  }

  async get(ctx: RequestContext, id: string): Promise<TenantView> {
    tenantAccess.read(ctx, id);
    const tenant = await this.scope.run(id, (em) => this.tenants.findById(em, id));
    if (!tenant) throw notFound();
    return toView(tenant);
  }

  async getBySlug(ctx: RequestContext, slug: string): Promise<TenantView> {
    const lookup = (em: EntityManager) => this.tenants.findBySlug(em, slug);
    // a tenant's own caller looks only inside its own row; the slug of another is not there
    const reach = tenantAccess.listing(ctx, {
      code: ErrorCode.NotFound,
      message: 'no such tenant',
    });
    const tenant = reach.every
      ? await this.scope.runAsPlatform(lookup)
      : await this.scope.run(reach.tenantId, lookup);
    if (!tenant) throw notFound();
    tenantAccess.read(ctx, tenant.id);
    return toView(tenant);
  }

  async list(ctx: RequestContext, query: ListTenantsQuery): Promise<TenantPage> {
    const { limit, cursor, ...filters } = query;
    const reach = tenantAccess.listing(ctx);
    const binding = { scope: reach.every ? 'platform' : reach.tenantId, filters };
    const after = cursor ? (this.cursors.decode(cursor, binding) as [string, string]) : null;
    const page = (em: EntityManager) => this.tenants.list(em, filters, after, limit + 1);
    // the same query either way: row-level security narrows it to the caller's own tenant
    const rows = reach.every
      ? await this.scope.runAsPlatform(page)
      : await this.scope.run(reach.tenantId, page);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    const nextCursor =
      rows.length > limit && last
        ? this.cursors.encode([last.createdAt.toISOString(), last.id], binding)
        : null;
    return { items: items.map(toView), nextCursor };
  }

  async update(ctx: RequestContext, id: string, changes: UpdateTenantBody): Promise<TenantView> {
    tenantAccess.update(ctx, id);
    if (changes.plan !== undefined || changes.quotaOverrides !== undefined)
      tenantAccess.govern(ctx, id, 'only platform administrators change plans and quotas');
    return this.transition(id, 'update', (tenant) => {
      const plan = changes.plan ?? tenant.plan;
      if (changes.quotaOverrides !== undefined && plan !== 'custom') {
        throw new DomainError(
          ErrorCode.ValidationFailed,
          'quota overrides are only accepted on the custom plan',
          {
            issues: [{ path: 'quotaOverrides', message: 'requires plan "custom"' }],
          },
        );
      }
      if (changes.name !== undefined) tenant.name = changes.name;
      if (changes.settings !== undefined) tenant.settings = changes.settings;
      tenant.plan = plan;
      if (plan !== 'custom') tenant.quotaOverrides = {};
      else if (changes.quotaOverrides !== undefined) tenant.quotaOverrides = changes.quotaOverrides;
      return true;
    });
  }

  suspend(ctx: RequestContext, id: string): Promise<TenantView> {
    return this.lifecycle(ctx, id, 'suspend');
  }

  reactivate(ctx: RequestContext, id: string): Promise<TenantView> {
    return this.lifecycle(ctx, id, 'reactivate');
  }

  delete(ctx: RequestContext, id: string): Promise<TenantView> {
    return this.lifecycle(ctx, id, 'delete');
  }

  private async lifecycle(
    ctx: RequestContext,
    id: string,
    action: Exclude<LifecycleAction, 'update'>,
  ): Promise<TenantView> {
    if (action === 'delete') tenantAccess.delete(ctx, id);
    else tenantAccess.govern(ctx, id, `you may not ${action} this tenant`);
    return this.transition(id, action, () => false);
  }

  /** Loads, changes, bumps the version and records the event, all in one transaction. */
  private async transition(
    id: string,
    action: LifecycleAction,
    change: (tenant: TenantEntity) => boolean,
  ): Promise<TenantView> {
    const now = this.clock.now();
    let changed = false;
    const tenant = await this.scope.run(id, async (em) => {
      const tenant = await em.findOne(TenantEntity, {
        where: { id },
        lock: { mode: 'pessimistic_write' },
      });
      if (!tenant) throw notFound();
      const status = nextStatus(tenant.status, action);
      changed = change(tenant);
      if (status) {
        changed = true;
        tenant.status = status;
        tenant.suspendedAt = status === 'suspended' ? now : null;
        tenant.deletedAt = status === 'deleted' ? now : null;
        tenant.purgeAfter =
          status === 'deleted'
            ? new Date(now.getTime() + this.settings.retentionDays * 86_400_000)
            : null;
      }
      if (!changed) return tenant;
      tenant.version += 1;
      tenant.updatedAt = now;
      const saved = await this.tenants.save(em, tenant);
      await this.outbox.record(em, EVENT_OF[action], saved, now);
      return saved;
    });
    if (changed) void this.outbox.kick();
    return toView(tenant);
  }
}

const EVENT_OF = {
  update: 'updated',
  suspend: 'suspended',
  reactivate: 'reactivated',
  delete: 'deleted',
} as const satisfies Record<LifecycleAction, string>;

export function toView(t: TenantEntity): TenantView {
  return {
    id: t.id,
    slug: t.slug,
    name: t.name,
    plan: t.plan,
    status: t.status,
    settings: t.settings as TenantView['settings'],
    quotaOverrides: t.quotaOverrides,
    quotas: effectiveQuotas(t.plan, t.quotaOverrides),
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
    suspendedAt: t.suspendedAt?.toISOString() ?? null,
    deletedAt: t.deletedAt?.toISOString() ?? null,
    purgeAfter: t.purgeAfter?.toISOString() ?? null,
    version: t.version,
  };
}

const notFound = () => new DomainError(ErrorCode.NotFound, 'no such tenant');
