import { Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  METERED,
  type MeteredResource,
  type QuotaCheckReply,
  type UsageRecorded,
  type UsageReply,
} from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { RejectMessage } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { Clock } from '@lattice/service-runtime';
import { effectiveQuotas } from '../plans/plan-catalog';
import { tenantAccess } from '../tenant/tenant-access';
import { TenantRepository } from '../tenant/tenant.repository';
import { decideQuota, meterPeriod, quotaLimit } from './metering';
import { UsageRepository } from './usage.repository';

@Injectable()
export class UsageService {
  constructor(
    private readonly scope: TenantScope,
    private readonly usage: UsageRepository,
    private readonly tenants: TenantRepository,
    private readonly clock: Clock,
  ) {}

  /** Counts one usage report exactly once. Returns whether this delivery was the one counted. */
  record(report: UsageRecorded): Promise<boolean> {
    return this.scope.run(report.tenantId, async (em) => {
      const tenant = await this.tenants.findById(em, report.tenantId);
      if (!tenant) throw new RejectMessage(`usage for unknown tenant ${report.tenantId}`);
      return this.usage.record(
        em,
        report,
        meterPeriod(report.resource, new Date(report.occurredAt)),
      );
    });
  }

  async check(
    ctx: RequestContext,
    request: { tenantId: string; resource: MeteredResource; amount: number },
  ): Promise<QuotaCheckReply> {
    tenantAccess.meter(ctx, request.tenantId);
    const period = meterPeriod(request.resource, this.clock.now());
    return this.scope.run(request.tenantId, async (em) => {
      const tenant = await this.tenants.findById(em, request.tenantId);
      if (!tenant) throw notFound();
      const [reading] = await this.usage.readings(em, [{ resource: request.resource, period }]);
      const limit = quotaLimit(
        request.resource,
        effectiveQuotas(tenant.plan, tenant.quotaOverrides),
      );
      const decision = decideQuota(
        reading!.used,
        limit,
        request.amount,
        tenant.status === 'active',
      );
      return { ...decision, resource: request.resource, period };
    });
  }

  async current(ctx: RequestContext, tenantId: string): Promise<UsageReply> {
    tenantAccess.meter(ctx, tenantId);
    const now = this.clock.now();
    return this.scope.run(tenantId, async (em) => {
      const tenant = await this.tenants.findById(em, tenantId);
      if (!tenant) throw notFound();
      const quotas = effectiveQuotas(tenant.plan, tenant.quotaOverrides);
      const readings = await this.usage.readings(
        em,
        METERED.map((resource) => ({ resource, period: meterPeriod(resource, now) })),
      );
      return {
        tenantId,
        period: meterPeriod('tokens', now),
        usage: readings.map((r) => {
          const { used, limit, remaining } = decideQuota(
            r.used,
            quotaLimit(r.resource, quotas),
            0,
            true,
          );
          return { resource: r.resource, period: r.period, used, limit, remaining };
        }),
      };
    });
  }
}

const notFound = () => new DomainError(ErrorCode.NotFound, 'no such tenant');
