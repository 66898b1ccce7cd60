import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { UsageReports, type UsageRecorded } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { JetStreamPublisher, TransactionalOutbox } from '@lattice/messaging';
import { LOGGER } from '@lattice/service-runtime';
import { gpuSecondsOf } from './gpu-seconds';
import { OutboxRepository } from './outbox.repository';

/**
 * GPU-seconds for USAGE, written in the transaction that ends a lease and relayed after it
 * commits. The message id is the lease's, so a lease is counted once whatever happens between.
 */
@Injectable()
export class UsageOutbox extends TransactionalOutbox<typeof UsageReports, EntityManager> {
  constructor(
    scope: TenantScope,
    private readonly outbox: OutboxRepository,
    publisher: JetStreamPublisher,
    @Inject(LOGGER) logger: Logger,
  ) {
    super({
      contract: UsageReports,
      store: outbox,
      inScope: (work) => scope.runForDispatch(work),
      publisher,
      logger,
      label: 'GPU usage reports',
    });
  }

  /** Meters an ended lease. */
  async leaseEnded(
    em: EntityManager,
    lease: {
      id: string;
      tenantId: string;
      chargedMiB: number;
      gpuTotalMiB: number;
      createdAt: Date;
    },
    endedAt: Date,
  ): Promise<void> {
    const report: UsageRecorded = {
      messageId: `gpu-lease:${lease.id}`,
      tenantId: lease.tenantId,
      resource: 'gpuSeconds',
      amount: gpuSecondsOf(lease, endedAt),
      occurredAt: endedAt.toISOString(),
      source: 'gpu-nodes',
    };
    await this.outbox.insert(em, {
      tenantId: lease.tenantId,
      eventId: report.messageId,
      subjectSuffix: report.resource,
      payload: report,
    });
  }
}
