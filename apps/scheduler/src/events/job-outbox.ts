import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { JobEvents, type JobChanged } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { JetStreamPublisher } from '@lattice/messaging';
import { LOGGER } from '@lattice/service-runtime';
import { OutboxRepository } from './outbox.repository';

const BATCH = 100;

/**
 * Job state changes are written in the same transaction as the change, then published to
 * JOB_EVENTS by the relay: a committed change always gets its event, a rolled-back one never
 * does. The event id is the JetStream message id, so a relay that publishes twice (a crash
 * between publish and delete) is de-duplicated by the stream.
 */
@Injectable()
export class JobOutbox implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private pending: Promise<void> = Promise.resolve();
  private rerun = false;
  private relaying = false;

  constructor(
    private readonly scope: TenantScope,
    private readonly outbox: OutboxRepository,
    private readonly publisher: JetStreamPublisher,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  record(em: EntityManager, event: JobChanged): Promise<void> {
    return this.outbox.insert(em, {
      tenantId: event.tenantId,
      eventId: event.eventId,
      subjectSuffix: event.to,
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
        this.logger.warn({ err: error }, 'job events not published yet; will retry'),
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
      const published = await this.scope.runForDispatch(async (em) => {
        const batch = await this.outbox.oldest(em, BATCH);
        for (const row of batch) {
          await this.publisher.publish(
            JobEvents,
            row.payload as JobChanged,
            row.eventId,
            row.subjectSuffix,
          );
          await this.outbox.delete(em, row.id);
        }
        return batch.length;
      });
      if (published < BATCH) return;
    }
  }
}
