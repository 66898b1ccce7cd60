import { Inject, Module, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { APP_INTERCEPTOR, HttpAdapterHost } from '@nestjs/core';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { AuditHealthCheck } from '@lattice/contracts';
import {
  AuditRecorder,
  RpcClient,
  SubjectNamespace,
  ensureAuditStream,
} from '@lattice/messaging';
import { serviceContext } from '@lattice/request-context';
import { HealthRegistry, LOGGER, NATS_CONNECTION } from '@lattice/service-runtime';
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
  // the recorder is the runtime's, which publishes what it holds at shutdown
  providers: [{ provide: APP_INTERCEPTOR, useClass: AuditTrailInterceptor }],
})
export class GatewayAuditModule implements OnModuleInit, OnApplicationBootstrap {
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
}
