import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { UsageReports, type UsageRecorded } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { JetStreamPublisher, TransactionalOutbox } from '@lattice/messaging';
import { LOGGER } from '@lattice/service-runtime';
import { UsageOutboxRepository } from './outbox.repository';

/**
 * Usage reports (the GPU-seconds a job ran), written in the transaction that ended the run and
 * relayed to USAGE under their message id: a scheduler that stops between the two publishes
 * them when it (or another replica) runs again, and the stream and the tenants service each
 * drop a second delivery, so every run is counted once.
 */
@Injectable()
export class UsageOutbox extends TransactionalOutbox<typeof UsageReports, EntityManager> {
  constructor(
    scope: TenantScope,
    private readonly store: UsageOutboxRepository,
    publisher: JetStreamPublisher,
    @Inject(LOGGER) logger: Logger,
  ) {
    super({
      contract: UsageReports,
      store,
      inScope: (work) => scope.runForDispatch(work),
      publisher,
      logger,
      label: 'usage reports',
    });
  }

  /** The report itself is the payload (its contract admits no extra field). */
  record(em: EntityManager, report: UsageRecorded): Promise<void> {
    return this.store.insert(em, {
      tenantId: report.tenantId,
      eventId: report.messageId,
      subjectSuffix: report.resource,
      payload: report,
    });
  }
}
