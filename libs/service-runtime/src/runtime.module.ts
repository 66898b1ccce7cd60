import { Global, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { Inject } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { EventBus, JetStreamPublisher, RpcClient, SubjectNamespace } from '@lattice/messaging';
import { ContextSigner } from '@lattice/request-context';
import { HealthController, HealthRegistry } from './health';
import { MetricsController, MetricsRegistry } from './metrics';
import { LOGGER, NATS_CONNECTION, SERVICE_NAME } from './tokens';

export interface RuntimeOptions {
  service: string;
  nats: NatsConnection;
  logger: Logger;
  namespace?: string;
  internalSecret: string;
}

/** Drains the NATS connection after everything that uses it has stopped. */
class NatsLifecycle implements OnApplicationShutdown {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => undefined);
  }
}

/**
 * What every Lattice service stands on: its NATS connection, namespace, signed request
 * context, typed RPC client, JetStream publisher, logger, health and metrics endpoints.
 */
@Global()
@Module({})
export class RuntimeModule {
  static forRoot(options: RuntimeOptions): DynamicModule {
    const namespace = new SubjectNamespace(options.namespace);
    const signer = new ContextSigner(options.internalSecret);
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
      ],
    };
  }
}
