import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { TenantScope } from '@lattice/database';
import { Clock, LOGGER, PeriodicJob } from '@lattice/service-runtime';
import { TenantOutbox } from '../events/tenant-outbox';
import { TenantRepository } from '../tenant/tenant.repository';

export const PURGE_INTERVAL_MS = Symbol('PURGE_INTERVAL_MS');

/**
 * Removes deleted tenants whose retention has run out, with everything they own (usage rows
 * go with the tenant row by foreign-key cascade), and announces each purge.
 */
@Injectable()
export class TenantPurgeJob extends PeriodicJob {
  constructor(
    private readonly scope: TenantScope,
    private readonly tenants: TenantRepository,
    private readonly outbox: TenantOutbox,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(PURGE_INTERVAL_MS) intervalMs: number,
  ) {
    super({ intervalMs, logger, failure: 'tenant purge failed; will retry' });
  }

  protected run(): Promise<number> {
    return this.purgeDue();
  }

  /** Purges every tenant past its retention. Returns how many went. */
  async purgeDue(): Promise<number> {
    const now = this.clock.now();
    let purged = 0;
    for (;;) {
      const due = await this.scope.runAsPlatform((em) => this.tenants.findDueForPurge(em, now, 50));
      for (const candidate of due) {
        const tenant = await this.scope.runAsPlatform(async (em) => {
          // found due outside this transaction: check again under a lock, or a tenant
          // reactivated in between would be purged all the same
          const current = await this.tenants.lockIfDueForPurge(em, candidate.id, now);
          if (!current) return null;
          await this.outbox.record(em, 'purged', current, now);
          await this.tenants.remove(em, current.id);
          return current;
        });
        if (!tenant) continue;
        this.logger.info({ tenantId: tenant.id, slug: tenant.slug }, 'tenant purged');
        purged++;
      }
      if (due.length < 50) break;
    }
    if (purged > 0) void this.outbox.kick();
    return purged;
  }
}
