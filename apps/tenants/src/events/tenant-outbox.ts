import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { TenantEvents, type TenantChanged } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { JetStreamPublisher, TransactionalOutbox } from '@lattice/messaging';
import { LOGGER } from '@lattice/service-runtime';
import { OutboxRepository } from './outbox.repository';
import type { TenantEntity } from '../tenant/tenant.entity';

/** Tenant events, written with the change they describe and relayed to TENANT_EVENTS. */
@Injectable()
export class TenantOutbox extends TransactionalOutbox<typeof TenantEvents, EntityManager> {
  constructor(
    scope: TenantScope,
    outbox: OutboxRepository,
    publisher: JetStreamPublisher,
    @Inject(LOGGER) logger: Logger,
  ) {
    super({
      contract: TenantEvents,
      store: outbox,
      inScope: (work) => scope.runAsPlatform(work),
      publisher,
      logger,
      label: 'tenant events',
    });
  }

  record(
    em: EntityManager,
    type: TenantChanged['type'],
    tenant: TenantEntity,
    at: Date,
  ): Promise<void> {
    const event: TenantChanged = {
      eventId: randomUUID(),
      type,
      tenantId: tenant.id,
      slug: tenant.slug,
      version: tenant.version,
      occurredAt: at.toISOString(),
    };
    return this.append(em, event, tenant.id, type);
  }
}
