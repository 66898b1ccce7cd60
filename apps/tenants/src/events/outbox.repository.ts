import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { NewOutboxRow, OutboxRow, OutboxStore } from '@lattice/messaging';
import { OutboxEntity } from './outbox.entity';

/** `tenants.outbox`, through its entity. */
@Injectable()
export class OutboxRepository implements OutboxStore<EntityManager> {
  async insert(em: EntityManager, row: NewOutboxRow): Promise<void> {
    await em.insert(OutboxEntity, {
      tenantId: row.tenantId,
      eventId: row.eventId,
      subjectSuffix: row.subjectSuffix,
      payload: row.payload as object,
    });
  }

  /** The oldest waiting events, locked; a batch another replica is relaying is skipped. */
  oldest(em: EntityManager, limit: number): Promise<OutboxRow[]> {
    return em
      .createQueryBuilder(OutboxEntity, 'o')
      .orderBy('o.id', 'ASC')
      .limit(limit)
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .getMany();
  }

  async delete(em: EntityManager, id: string): Promise<void> {
    await em.delete(OutboxEntity, { id });
  }
}
