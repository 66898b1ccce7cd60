import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { AuditEvents } from '@lattice/contracts';
import { DurableBatchConsumer, SubjectNamespace } from '@lattice/messaging';
import { LOGGER, NATS_CONNECTION } from '@lattice/service-runtime';
import { AuditIngestService } from './audit-ingest.service';

export const INGEST_SETTINGS = Symbol('INGEST_SETTINGS');
export interface IngestSettings {
  batchSize: number;
  /** Batches handled at once; the ingest service keeps each tenant's in order. */
  inFlight: number;
  ackWaitMs: number;
}

/**
 * Reads the AUDIT stream in batches, the next ones while earlier ones are written; acks a
 * batch only once it is committed.
 */
@Injectable()
export class AuditEventConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer?: DurableBatchConsumer<typeof AuditEvents>;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly ns: SubjectNamespace,
    private readonly ingest: AuditIngestService,
    @Inject(INGEST_SETTINGS) private readonly settings: IngestSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = new DurableBatchConsumer(this.nc, this.ns, {
      contract: AuditEvents,
      durable: 'audit-events',
      logger: this.logger,
      batch: this.settings.batchSize,
      inFlight: this.settings.inFlight,
      ackWaitMs: this.settings.ackWaitMs,
      handleBatch: async (events) => {
        await this.ingest.ingest(events);
      },
    });
    await this.consumer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }
}
