import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AuditHealthCheck } from '@lattice/contracts';
import { AuditRecorder, RpcClient } from '@lattice/messaging';
import { serviceContext } from '@lattice/request-context';
import { HealthRegistry } from '@lattice/service-runtime';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { failureOf, onRouterRefusal } from '../http/problem.filter';
import { AuditController } from './audit.controller';
import { MUTATING, recordRequest, type AuditedRequest } from './audit-trail';

/**
 * The audit trail at the gateway: the `/v1/audit-events`, GDPR and consent routes; an event
 * for every mutating call and every denial, published without holding up the response; and
 * the audit service among the dependencies readiness checks. The events are recorded in
 * Fastify's hooks, not in a Nest interceptor, which would wrap every call (reads included)
 * in an observable for the few that change something.
 */
@Module({
  controllers: [AuditController],
  // the recorder is the runtime's, which publishes what it holds at shutdown
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
    // a denial, or a call meant to change something, is recorded as its answer is sent, with
    // the error code it failed with; what is answered without one (a refused body, an unknown
    // route) once the response is out
    const fastify = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    const record = (request: FastifyRequest, status: number) => {
      if (status === 401 || status === 403 || MUTATING.has(request.method)) {
        recordRequest(this.recorder, request as AuditedRequest, status, failureOf(request));
      }
    };
    fastify.addHook('onSend', (request, reply, payload, done) => {
      record(request, reply.statusCode);
      done(null, payload);
    });
    fastify.addHook('onResponse', (request, reply, done) => {
      record(request, reply.statusCode);
      done();
    });
    onRouterRefusal(fastify, record);
  }
}
