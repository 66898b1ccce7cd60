import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { JobEvents, type JobChanged } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { JetStreamPublisher, TransactionalOutbox } from '@lattice/messaging';
import { LOGGER } from '@lattice/service-runtime';
import { OutboxRepository } from './outbox.repository';

/** Job state changes, written with the change and relayed to JOB_EVENTS. */
@Injectable()
export class JobOutbox extends TransactionalOutbox<typeof JobEvents, EntityManager> {
  constructor(
    scope: TenantScope,
    outbox: OutboxRepository,
    publisher: JetStreamPublisher,
    @Inject(LOGGER) logger: Logger,
  ) {
    super({
      contract: JobEvents,
      store: outbox,
      inScope: (work) => scope.runForDispatch(work),
      publisher,
      logger,
      label: 'job events',
    });
  }

  record(em: EntityManager, event: JobChanged): Promise<void> {
    return this.append(em, event, event.tenantId, event.to);
  }
}
