import { Module, type INestApplication } from '@nestjs/common';
import { APP_GUARD, NestFactory, Reflector } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { NestPinoLogger, type Logger } from '@lattice/logging';
import { connectNats } from '@lattice/messaging';
import { MetricsRegistry, RuntimeModule } from '@lattice/service-runtime';
import { GatewayAuditModule } from './audit/gateway-audit.module';
import { BootstrapTokenGuard } from './auth/bootstrap-token.guard';
import { DependenciesHealth } from './health/dependencies.health';
import { ProblemFilter } from './http/problem.filter';
import { instrumentRequests, requestIdFrom } from './http/request-logging';
import { TENANT_CACHE_TTL_MS, TenantCache } from './tenants/tenant-cache';
import { TenantsController } from './tenants/tenants.controller';
import type { GatewayConfig } from './gateway.config';

export const API_VERSION = '0.1.0';

/** The HTTP API: `/v1` routes to the services over NATS, problem+json errors, OpenAPI at /docs. */
export async function createGatewayApp(
  config: GatewayConfig,
  logger: Logger,
): Promise<INestApplication> {
  const nats = await connectNats(config.NATS_URL, 'lattice-gateway');

  @Module({
    imports: [
      RuntimeModule.forRoot({
        service: 'gateway',
        nats,
        logger,
        namespace: config.LATTICE_NAMESPACE,
        internalSecret: config.LATTICE_INTERNAL_SECRET,
      }),
      GatewayAuditModule,
    ],
    controllers: [TenantsController],
    providers: [
      TenantCache,
      DependenciesHealth,
      { provide: TENANT_CACHE_TTL_MS, useValue: config.GATEWAY_TENANT_CACHE_TTL_SECONDS * 1000 },
      {
        provide: APP_GUARD,
        inject: [Reflector],
        useFactory: (reflector: Reflector) =>
          new BootstrapTokenGuard(reflector, config.LATTICE_BOOTSTRAP_TOKEN),
      },
    ],
  })
  class GatewayModule {}

  const adapter = new FastifyAdapter({
    bodyLimit: config.GATEWAY_BODY_LIMIT_BYTES,
    trustProxy: config.GATEWAY_TRUST_PROXY,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) =>
      requestIdFrom(req.headers['x-request-id'], randomUUID),
    requestIdHeader: false,
    logger: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule, adapter, {
    logger: new NestPinoLogger(logger),
  });
  const fastify = app.getHttpAdapter().getInstance();
  instrumentRequests(fastify, logger, app.get(MetricsRegistry).registry);
  app.useGlobalFilters(new ProblemFilter(logger));
  // the API speaks JSON only: anything else is 415 before it reaches a handler
  fastify.removeContentTypeParser(['text/plain']);

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Lattice API')
      .setDescription(
        'Multi-tenant platform for GenAI workloads. Errors are RFC 9457 problem+json.',
      )
      .setVersion(API_VERSION)
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs/json',
    yamlDocumentUrl: 'docs/yaml',
  });

  await app.listen(config.GATEWAY_PORT, config.GATEWAY_HOST);
  return app;
}
