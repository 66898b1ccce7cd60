import { Inject, Injectable } from '@nestjs/common';
import { TenantsGet, type Plan } from '@lattice/contracts';
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

/** Tenants' plans, asked of the tenants service and kept a short while. */
@Injectable()
export class PlanDirectory {
  private readonly cache = new Map<string, { plan: TenantPlan; until: number }>();

  constructor(
    private readonly rpc: RpcClient,
    private readonly clock: Clock,
    @Inject(PLAN_CACHE_MS) private readonly ttlMs: number,
  ) {}

  async planOf(tenantId: string): Promise<TenantPlan> {
    const now = this.clock.now().getTime();
    const cached = this.cache.get(tenantId);
    if (cached && cached.until > now) return cached.plan;
    const tenant = await this.rpc.request(
      TenantsGet,
      { id: tenantId },
      serviceContext('scheduler'),
    );
    const plan: TenantPlan = {
      plan: tenant.plan,
      concurrentJobs: tenant.status === 'active' ? tenant.quotas.concurrentJobs : 0,
      fairShareWeight: tenant.quotas.fairShareWeight,
    };
    this.cache.set(tenantId, { plan, until: now + this.ttlMs });
    return plan;
  }

  /** The plans of several tenants, asked for at once. */
  async plansOf(tenantIds: Iterable<string>): Promise<Map<string, TenantPlan>> {
    const ids = [...new Set(tenantIds)];
    const plans = await Promise.all(ids.map((id) => this.planOf(id)));
    return new Map(ids.map((id, i) => [id, plans[i]!]));
  }
}
