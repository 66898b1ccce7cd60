import { Injectable } from '@nestjs/common';
import { actingTenant } from '@lattice/authz';
import {
  DomainError,
  ErrorCode,
  PLATFORM_TENANT_ID,
  type ReconciliationQuery,
  type ReconciliationReport,
} from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import type { RequestContext } from '@lattice/request-context';
import { Clock } from '@lattice/service-runtime';
import {
  VARIANCE_FLAG_PERCENT,
  buildReconciliationReport,
  utcDay,
} from '../cost/token-reconciliation';
import { QueryRecordRepository } from './query-record.repository';

/** The longest range one report covers. */
export const RECONCILIATION_MAX_DAYS = 366;
const DAY_MS = 86_400_000;

/**
 * Tokens estimated by the service's tokenizer against those the model servers counted, per
 * tenant and UTC day, for those who read the tenant's usage; a day whose variance is above 10 %
 * is flagged (a tokenizer or a provider miscounting).
 */
@Injectable()
export class TokenReconciliationService {
  constructor(
    private readonly scope: TenantScope,
    private readonly records: QueryRecordRepository,
    private readonly clock: Clock,
  ) {}

  async report(ctx: RequestContext, query: ReconciliationQuery): Promise<ReconciliationReport> {
    const acting = actingTenant(ctx, {
      tenantId: query.tenantId,
      action: 'read',
      resource: 'Usage',
    });
    if (acting.tenantId === PLATFORM_TENANT_ID)
      throw new DomainError(ErrorCode.ValidationFailed, 'name the tenant to report on', {
        field: 'tenantId',
      });
    const to = query.to ?? utcDay(this.clock.now());
    const from = query.from ?? utcDay(new Date(Date.parse(`${to}T00:00:00Z`) - 30 * DAY_MS));
    const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS;
    if (days < 0)
      throw new DomainError(ErrorCode.ValidationFailed, '`from` is after `to`', { field: 'from' });
    if (days >= RECONCILIATION_MAX_DAYS)
      throw new DomainError(
        ErrorCode.ValidationFailed,
        `a report covers at most ${RECONCILIATION_MAX_DAYS} days`,
        { field: 'from' },
      );
    const daily = await this.scope.run(acting.tenantId, (em) =>
      this.records.dailyTokens(em, from, to),
    );
    const rows = buildReconciliationReport(
      daily.flatMap((d) =>
        // one record per day holding the day's sums: the report's grouping keeps them
        [{ tenantId: acting.tenantId, day: d.day, estimated: d.estimated, actual: d.counted }],
      ),
    );
    const requests = new Map(daily.map((d) => [d.day, d.requests]));
    return {
      tenantId: acting.tenantId,
      from,
      to,
      flagAbovePercent: VARIANCE_FLAG_PERCENT,
      days: rows.map((r) => ({
        tenantId: r.tenantId,
        day: r.day,
        requests: requests.get(r.day) ?? r.requests,
        estimated: r.estimated,
        counted: r.actual,
        variance: Number.isFinite(r.variance) ? r.variance : null,
        flagged: r.flagged,
      })),
    };
  }
}
