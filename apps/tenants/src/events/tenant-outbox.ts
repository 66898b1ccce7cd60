import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { TenantEvents, type TenantChanged } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { JetStreamPublisher } from '@lattice/messaging';
import { LOGGER } from '@lattice/service-runtime';
import { OutboxEntity } from './outbox.entity';
import type { TenantEntity } from '../tenant/tenant.entity';

/**
 * Tenant events are written in the same transaction as the change they describe, then
 * published to JetStream by the relay: a committed change always gets its event, and a
 * rolled-back one never does. The event id is the JetStream message id, so a relay that
 * publishes twice (crash between publish and delete) is de-duplicated by the stream.
 */
@Injectable()
export class TenantOutbox implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private pending: Promise<void> = Promise.resolve();
  private rerun = false;
  private relaying = false;

  constructor(
    private readonly scope: TenantScope,
    private readonly publisher: JetStreamPublisher,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async record(
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
    await em.insert(OutboxEntity, {
      tenantId: tenant.id,
      eventId: event.eventId,
      subjectSuffix: type,
      payload: event,
    });
  }

  /** Publishes what is waiting now rather than at the next poll. */
  kick(): Promise<void> {
    if (this.relaying) {
      this.rerun = true;
      return this.pending;
    }
    this.relaying = true;
    this.pending = this.relay()
      .catch((error) =>
        this.logger.warn({ err: error }, 'tenant events not published yet; will retry'),
      )
      .finally(() => {
        this.relaying = false;
        if (this.rerun) {
          this.rerun = false;
          void this.kick();
        }
      });
    return this.pending;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.kick(), 1_000);
    this.timer.unref();
    void this.kick();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.pending;
  }

  private async relay(): Promise<void> {
    for (;;) {
      const published = await this.scope.runAsPlatform(async (em) => {
        const batch = await em
          .createQueryBuilder(OutboxEntity, 'o')
          .orderBy('o.id', 'ASC')
          .limit(100)
          .setLock('pessimistic_write')
          .setOnLocked('skip_locked')
          .getMany();
        for (const row of batch) {
          await this.publisher.publish(
            TenantEvents,
            row.payload as TenantChanged,
            row.eventId,
            row.subjectSuffix,
          );
          await em.delete(OutboxEntity, { id: row.id });
        }
        return batch.length;
      });
      if (published < 100) return;
    }
  }
}
