import {
  Inject,
  Module,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import { APP_INTERCEPTOR, HttpAdapterHost } from '@nestjs/core';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { AuditHealthCheck } from '@lattice/contracts';
import {
  AuditRecorder,
  JetStreamPublisher,
  RpcClient,
  SubjectNamespace,
  ensureAuditStream,
  serviceContext,
} from '@lattice/messaging';
import { HealthRegistry, LOGGER, MetricsRegistry, NATS_CONNECTION } from '@lattice/service-runtime';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { onRouterRefusal } from '../http/problem.filter';
import { AuditController } from './audit.controller';
import { MUTATING, recordRequest, type AuditedRequest } from './audit-trail';
import { AuditTrailInterceptor } from './audit-trail.interceptor';

/**
 * The audit trail at the gateway: the `/v1/audit-events`, GDPR and consent routes; an event
 * for every mutating call and every denial, published without holding up the response; and
 * the audit service among the dependencies readiness checks.
 */
@Module({
  controllers: [AuditController],
  providers: [
    {
      provide: AuditRecorder,
      inject: [JetStreamPublisher, LOGGER, MetricsRegistry],
      useFactory: (publisher: JetStreamPublisher, logger: Logger, metrics: MetricsRegistry) =>
        new AuditRecorder(publisher, { logger, metrics: metrics.registry }),
    },
    { provide: APP_INTERCEPTOR, useClass: AuditTrailInterceptor },
  ],
  exports: [AuditRecorder],
})
export class GatewayAuditModule
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown
{
  constructor(
    @Inject(AuditRecorder) private readonly recorder: AuditRecorder,
    private readonly adapter: HttpAdapterHost,
    private readonly health: HealthRegistry,
    private readonly rpc: RpcClient,
    private readonly ns: SubjectNamespace,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.health.register('audit', async () => {
      await this.rpc.request(AuditHealthCheck, {}, serviceContext('gateway-readiness'), {
        timeoutMs: 1_500,
      });
    });
    // what never reached a handler (refused by a guard, unparseable, unknown route) is
    // recorded once the response is out, when it was a denial or meant to change something
    const fastify = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    const record = (request: FastifyRequest, status: number) => {
      if (status === 401 || status === 403 || MUTATING.has(request.method)) {
        recordRequest(this.recorder, request as AuditedRequest, status);
      }
    };
    fastify.addHook('onResponse', async (request, reply) => record(request, reply.statusCode));
    onRouterRefusal(fastify, record);
  }

  async onApplicationBootstrap(): Promise<void> {
    // until the audit service has created it, events wait in the recorder instead
    await ensureAuditStream(this.nc, this.ns).catch((error) =>
      this.logger.warn({ err: error }, 'AUDIT stream not ready yet; events are buffered'),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (!(await this.recorder.flush(5_000))) {
      this.logger.error(
        { waiting: this.recorder.buffered },
        'audit events not published at shutdown',
      );
    }
  }
}
