import { Inject, Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  TenantsGet,
  TenantsQuotaCheck,
  type Plan,
} from '@lattice/contracts';
import { RpcClient } from '@lattice/messaging';
import { serviceContext } from '@lattice/request-context';
import { Clock } from '@lattice/service-runtime';

export const PLAN_CACHE_MS = Symbol('PLAN_CACHE_MS');

/** What the scheduler needs of a tenant's plan. */
export interface TenantPlan {
  plan: Plan;
  /** Jobs it may hold (leased or running) at once, across queues. */
  concurrentJobs: number;
  fairShareWeight: number;
}

/**
 * Custom-plan tenants share one tier weighted as the custom plan's default (enterprise's, 50),
 * each with its own `fairShareWeight` inside it, as the fair-share core's comment says.
 */
const CUSTOM_TIER_WEIGHT = 50;

/** A tenant's place in the fair-share core: its tier, the tier's weight, its own weight. */
export function fairShareTier(plan: TenantPlan): {
  tier: string;
  tierWeight: number;
  weight: number;
} {
  return plan.plan === 'custom'
    ? { tier: 'custom', tierWeight: CUSTOM_TIER_WEIGHT, weight: plan.fairShareWeight }
    : { tier: plan.plan, tierWeight: plan.fairShareWeight, weight: 1 };
}

/** A tenant that is gone: it holds no job, and its weight is the least there is. */
const NO_JOBS: TenantPlan = { plan: 'free', concurrentJobs: 0, fairShareWeight: 1 };

/** A tenant's GPU-seconds this month, against its plan's cap. */
export interface GpuUsage {
  used: number;
  limit: number;
}

/** Tenants' plans and GPU usage, asked of the tenants service and kept a short while. */
@Injectable()
export class PlanDirectory {
  private readonly cache = new Map<string, { plan: TenantPlan; until: number }>();
  private readonly gpu = new Map<string, { usage: GpuUsage; until: number }>();

  constructor(
    private readonly rpc: RpcClient,
    private readonly clock: Clock,
    @Inject(PLAN_CACHE_MS) private readonly ttlMs: number,
  ) {}

  /**
   * The tenant's plan. A tenant that is not active, or no longer exists, may hold no job, so
   * its waiting jobs stay where they are; while the tenants service cannot answer, the last
   * plan known stands in for it.
   */
  async planOf(tenantId: string): Promise<TenantPlan> {
    const now = this.clock.now().getTime();
    const cached = this.cache.get(tenantId);
    if (cached && cached.until > now) return cached.plan;
    let plan: TenantPlan;
    try {
      const tenant = await this.rpc.request(
        TenantsGet,
        { id: tenantId },
        serviceContext('scheduler'),
      );
      plan = {
        plan: tenant.plan,
        concurrentJobs: tenant.status === 'active' ? tenant.quotas.concurrentJobs : 0,
        fairShareWeight: tenant.quotas.fairShareWeight,
      };
    } catch (error) {
      if (error instanceof DomainError && error.code === ErrorCode.NotFound) plan = NO_JOBS;
      else if (cached) return cached.plan;
      else throw error;
    }
    this.cache.set(tenantId, { plan, until: now + this.ttlMs });
    return plan;
  }

  /**
   * The tenant's GPU-seconds used this month and its plan's cap on them, as the tenants service
   * counts the USAGE stream. While that service cannot answer, the last figures known stand in;
   * with none known, null: the cap is a billing limit, and an outage of the meter does not stop
   * GPU work.
   */
  async gpuUsageOf(tenantId: string): Promise<GpuUsage | null> {
    const now = this.clock.now().getTime();
    const cached = this.gpu.get(tenantId);
    if (cached && cached.until > now) return cached.usage;
    try {
      const reply = await this.rpc.request(
        TenantsQuotaCheck,
        { tenantId, resource: 'gpuSeconds', amount: 0 },
        serviceContext('scheduler'),
      );
      const usage = { used: reply.used, limit: reply.limit };
      this.gpu.set(tenantId, { usage, until: now + this.ttlMs });
      return usage;
    } catch {
      return cached?.usage ?? null;
    }
  }

  /** The plans of several tenants, asked for at once. */
  async plansOf(tenantIds: Iterable<string>): Promise<Map<string, TenantPlan>> {
    const ids = [...new Set(tenantIds)];
    const plans = await Promise.all(ids.map((id) => this.planOf(id)));
    return new Map(ids.map((id, i) => [id, plans[i]!]));
  }
}
