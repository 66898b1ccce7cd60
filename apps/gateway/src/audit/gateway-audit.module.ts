import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { APP_INTERCEPTOR, HttpAdapterHost } from '@nestjs/core';
import { AuditHealthCheck } from '@lattice/contracts';
import { AuditRecorder, RpcClient } from '@lattice/messaging';
import { serviceContext } from '@lattice/request-context';
import { HealthRegistry } from '@lattice/service-runtime';
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
export class GatewayAuditModule implements OnModuleInit {
  constructor(
    @Inject(AuditRecorder) private readonly recorder: AuditRecorder,
    private readonly adapter: HttpAdapterHost,
    private readonly health: HealthRegistry,
    private readonly rpc: RpcClient,
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
}
