import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { GpuLeaseEvents, type GpuLeaseState } from '@lattice/contracts';
import { EventBus, UsageOutbox } from '@lattice/messaging';
import { LOGGER } from '@lattice/service-runtime';
import { leaseUsageReport } from '../usage/gpu-seconds';
import { LeaseRepository, type LeaseRow } from './lease.repository';

/**
 * How a lease changes hands: each end (release, expiry, loss with its node) meters its
 * GPU-seconds in the same transaction, and once that commits the change is told on
 * `GpuLeaseEvents`, where holders and the node pool hear it.
 */
@Injectable()
export class LeaseEndings {
  constructor(
    private readonly leases: LeaseRepository,
    private readonly usage: UsageOutbox<EntityManager>,
    private readonly events: EventBus,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Ends the lease if it is still active, metering it; null when it had already ended. */
  async end(
    em: EntityManager,
    id: string,
    state: Exclude<GpuLeaseState, 'active'>,
    at: Date,
    reason: string | null,
  ): Promise<LeaseRow | null> {
    const ended = await this.leases.end(em, id, state, at, reason);
    if (ended) await this.usage.record(em, leaseUsageReport(ended, at));
    return ended;
  }

  /** Tells listeners of committed changes, and sends the usage they wrote. */
  announce(changed: readonly LeaseRow[]): void {
    for (const lease of changed) {
      try {
        this.events.publish(GpuLeaseEvents, {
          leaseId: lease.id,
          tenantId: lease.tenantId,
          node: lease.node,
          gpuUuid: lease.gpuUuid,
          vramMiB: lease.vramMiB,
          state: lease.state === 'active' ? 'granted' : lease.state,
          at: (lease.endedAt ?? lease.createdAt).toISOString(),
        });
      } catch (error) {
        this.logger.warn({ err: error, leaseId: lease.id }, 'lease event not published');
      }
    }
    if (changed.some((l) => l.state !== 'active')) void this.usage.kick();
  }
}
