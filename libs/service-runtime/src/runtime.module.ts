import {
  Global,
  Inject,
  Module,
  Optional,
  type DynamicModule,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import {
  AuditRecorder,
  EventBus,
  JetStreamPublisher,
  RpcClient,
  SubjectNamespace,
} from '@lattice/messaging';
import { ContextSigner } from '@lattice/request-context';
import { HealthController, HealthRegistry } from './health';
import { MetricsController, MetricsRegistry } from './metrics';
import { LOGGER, NATS_CONNECTION, SERVICE_NAME } from './tokens';

export interface RuntimeOptions {
  service: string;
  nats: NatsConnection;
  logger: Logger;
  namespace?: string;
  /** Signs the service's own context and verifies what it receives (`ContextSigner.fromConfig`). */
  signer: ContextSigner;
  /**
   * The service records audit events: one `AuditRecorder` for all of it, counting what it
   * drops in the service's metrics, and publishing what it holds before NATS drains.
   */
  auditRecorder?: boolean;
}

/** How long a stopping service waits for its audit events to reach the stream. */
const AUDIT_FLUSH_MS = 5_000;

/**
 * Drains the NATS connection after everything that uses it has stopped: the HTTP and NATS
 * listeners are closed by then, so the audit events their last requests recorded are all
 * queued, and go out first.
 */
class NatsLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(AuditRecorder) private readonly recorder?: AuditRecorder,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.recorder && !(await this.recorder.flush(AUDIT_FLUSH_MS))) {
      this.logger.error(
        { waiting: this.recorder.buffered },
        'audit events not published at shutdown',
      );
    }
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => undefined);
  }
}

const auditRecorderProvider: Provider = {
  provide: AuditRecorder,
  inject: [JetStreamPublisher, LOGGER, MetricsRegistry],
  useFactory: (publisher: JetStreamPublisher, logger: Logger, metrics: MetricsRegistry) =>
    new AuditRecorder(publisher, { logger, metrics: metrics.registry }),
};

/**
 * What every Lattice service stands on: its NATS connection, namespace, signed request
 * context, typed RPC client, JetStream publisher, logger, health and metrics endpoints, and
 * (where asked) its audit recorder.
 */
@Global()
@Module({})
export class RuntimeModule {
  static forRoot(options: RuntimeOptions): DynamicModule {
    const namespace = new SubjectNamespace(options.namespace);
    const signer = options.signer;
    return {
      module: RuntimeModule,
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: SERVICE_NAME, useValue: options.service },
        { provide: NATS_CONNECTION, useValue: options.nats },
        { provide: LOGGER, useValue: options.logger },
        { provide: SubjectNamespace, useValue: namespace },
        { provide: ContextSigner, useValue: signer },
        { provide: RpcClient, useValue: new RpcClient(options.nats, signer, namespace) },
        { provide: JetStreamPublisher, useValue: new JetStreamPublisher(options.nats, namespace) },
        { provide: EventBus, useValue: new EventBus(options.nats, namespace, options.logger) },
        HealthRegistry,
        MetricsRegistry,
        NatsLifecycle,
        ...(options.auditRecorder ? [auditRecorderProvider] : []),
      ],
      exports: [
        SERVICE_NAME,
        NATS_CONNECTION,
        LOGGER,
        SubjectNamespace,
        ContextSigner,
        RpcClient,
        JetStreamPublisher,
        EventBus,
        HealthRegistry,
        MetricsRegistry,
        ...(options.auditRecorder ? [AuditRecorder] : []),
      ],
    };
  }
}
