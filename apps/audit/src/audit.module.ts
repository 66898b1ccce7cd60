import { Module, type DynamicModule } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { CursorCodec } from '@lattice/database';
import { Clock, SystemClock, databaseProviders, periodicJob } from '@lattice/service-runtime';
import { ChainService } from './chain/chain.service';
import { CheckpointRepository } from './chain/checkpoint.repository';
import { CheckpointSigner } from './chain/checkpoint-signer';
import { ConsentHandlers } from './consents/consent.handlers';
import { ConsentRepository } from './consents/consent.repository';
import { ConsentService } from './consents/consent.service';
import { AuditEventRepository } from './events/audit-event.repository';
import { AuditEventsHandlers } from './events/audit-events.handlers';
import { AuditQueryService } from './events/audit-query.service';
import { GdprHandlers } from './gdpr/gdpr.handlers';
import { GDPR_SETTINGS, GdprService } from './gdpr/gdpr.service';
import { AuditEventConsumer, INGEST_SETTINGS } from './ingest/audit-event.consumer';
import { AuditIngestService } from './ingest/audit-ingest.service';
import { ParkedEventRepository } from './ingest/parked-event.repository';
import { EventSealer } from './privacy/event-sealer';
import { SubjectCipher } from './privacy/subject-cipher';
import { SubjectKeyRepository } from './privacy/subject-keys.repository';
import { RETENTION_SETTINGS, RetentionService } from './retention/retention.service';
import { cipherFromConfig, deriveKey } from '@lattice/secrets';
import type { AuditConfig } from './audit.config';

@Module({})
export class AuditModule {
  static forRoot(
    config: AuditConfig,
    dataSource: DataSource,
    clock: Clock = new SystemClock(),
  ): DynamicModule {
    const secret = config.LATTICE_INTERNAL_SECRET;
    const cipher = new SubjectCipher(
      cipherFromConfig(config),
      deriveKey(secret, 'audit-subject-lookup'),
    );
    return {
      module: AuditModule,
      controllers: [AuditEventsHandlers, GdprHandlers, ConsentHandlers],
      providers: [
        ...databaseProviders(dataSource),
        { provide: CursorCodec, useValue: new CursorCodec(deriveKey(secret, 'cursor')) },
        { provide: Clock, useValue: clock },
        { provide: SubjectCipher, useValue: cipher },
        { provide: EventSealer, useValue: new EventSealer(cipher) },
        { provide: CheckpointSigner, useValue: new CheckpointSigner(config.AUDIT_CHECKPOINT_KEY) },
        {
          provide: INGEST_SETTINGS,
          useValue: {
            batchSize: config.AUDIT_BATCH_SIZE,
            inFlight: config.AUDIT_BATCHES_IN_FLIGHT,
            ackWaitMs: config.AUDIT_ACK_WAIT_SECONDS * 1000,
          },
        },
        {
          provide: RETENTION_SETTINGS,
          useValue: { platformRetentionDays: config.AUDIT_PLATFORM_RETENTION_DAYS },
        },
        {
          provide: GDPR_SETTINGS,
          useValue: { waitMs: config.AUDIT_GDPR_WAIT_MS, services: config.AUDIT_GDPR_SERVICES },
        },
        AuditEventRepository,
        SubjectKeyRepository,
        CheckpointRepository,
        ParkedEventRepository,
        AuditIngestService,
        AuditEventConsumer,
        AuditQueryService,
        ChainService,
        // signs a checkpoint of every chain that grew
        periodicJob({
          name: 'CheckpointJob',
          intervalMs: config.AUDIT_CHECKPOINT_INTERVAL_SECONDS * 1000,
          failure: 'checkpointing failed; will retry',
          inject: [ChainService],
          run: (chain) => chain.checkpointAll(),
        }),
        RetentionService,
        // applies retention to every tenant's trail
        periodicJob({
          name: 'RetentionJob',
          intervalMs: config.AUDIT_RETENTION_INTERVAL_SECONDS * 1000,
          failure: 'audit retention failed; will retry',
          inject: [RetentionService],
          run: (retention) => retention.applyAll(),
        }),
        ConsentService,
        ConsentRepository,
        GdprService,
      ],
      exports: [AuditIngestService, ChainService, RetentionService, GdprService],
    };
  }
}
