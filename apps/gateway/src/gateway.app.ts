import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { NestPinoLogger, type Logger } from '@lattice/logging';
import {
  SubjectNamespace,
  connectNats,
  ensureAuditStream,
  natsCredentials,
} from '@lattice/messaging';
import { ContextSigner } from '@lattice/request-context';
import { MetricsRegistry, RuntimeModule, defineService } from '@lattice/service-runtime';
import { API_KEY_CACHE_TTL_MS, ApiKeyCache } from './auth/api-key.cache';
import { AuthController } from './auth/auth.controller';
import { AuthenticationGuard, JwtGuard } from './auth/authentication.guard';
import { JWKS_MIN_REFETCH_MS, JwksCache } from './auth/jwks.cache';
import { JwtStrategy, TOKEN_EXPECTATIONS } from './auth/jwt.strategy';
import { ClusterController } from './gpu/cluster.controller';
import { GpuController } from './gpu/gpu.controller';
import { IdentityController } from './identity/identity.controller';
import { JobsController } from './jobs/jobs.controller';
import { CollectionsController } from './rag/collections.controller';
import { RAG_QUERY_TIMEOUT_MS, RagQueryController } from './rag/rag-query.controller';
import { QueuesController } from './jobs/queues.controller';
import { RateLimitGuard } from './rate-limits/rate-limit.guard';
import { TenantStandingGuard } from './tenants/tenant-standing.guard';
import { RATE_LIMIT_STORE, TenantRateLimiter, rateLimitRedis } from './rate-limits/rate-limiter';
import { GatewayAuditModule } from './audit/gateway-audit.module';
import { DependenciesHealth } from './health/dependencies.health';
import { answerRefusedBodies } from './http/refused-body';
import { refuseBodiesThatAreNotUtf8 } from './http/json-body';
import { DirectRoutes, DirectRoutesAdapter } from './http/direct-routes';
import { describeApi } from './http/openapi.document';
import { ProblemFilter, frameworkErrorHandler } from './http/problem.filter';
import { instrumentRequests, requestIdFrom } from './http/request-logging';
import { traceRequests } from './http/request-tracing';
import { TENANT_CACHE_TTL_MS, TenantCache } from './tenants/tenant-cache';
import { TenantsController } from './tenants/tenants.controller';
import { gatewayConfigSpec, type GatewayConfig } from './gateway.config';

/** The HTTP API: `/v1` routes to the services over NATS, problem+json errors, OpenAPI at /docs. */
export async function createGatewayApp(
  config: GatewayConfig,
  logger: Logger,
): Promise<INestApplication> {
  const signer = ContextSigner.fromConfig('gateway', config);
  const nats = await connectNats(config.NATS_URL, 'lattice-gateway', natsCredentials(config));
  await ensureAuditStream(nats, new SubjectNamespace(config.LATTICE_NAMESPACE));
  const redis = config.REDIS_URL ? rateLimitRedis(config.REDIS_URL) : undefined;

  @Module({
    imports: [
      RuntimeModule.forRoot({
        service: 'gateway',
        nats,
        logger,
        namespace: config.LATTICE_NAMESPACE,
        signer,
        auditRecorder: true,
      }),
      PassportModule,
      GatewayAuditModule,
    ],
    controllers: [
      AuthController,
      IdentityController,
      TenantsController,
      QueuesController,
      JobsController,
      GpuController,
      CollectionsController,
      RagQueryController,
      ClusterController,
    ],
    providers: [
      TenantCache,
      DependenciesHealth,
      { provide: TENANT_CACHE_TTL_MS, useValue: config.GATEWAY_TENANT_CACHE_TTL_SECONDS * 1000 },
      { provide: RAG_QUERY_TIMEOUT_MS, useValue: config.GATEWAY_RAG_QUERY_TIMEOUT_SECONDS * 1000 },
      {
        provide: TOKEN_EXPECTATIONS,
        useValue: { issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE },
      },
      { provide: JWKS_MIN_REFETCH_MS, useValue: config.GATEWAY_JWKS_MIN_REFETCH_SECONDS * 1000 },
      { provide: API_KEY_CACHE_TTL_MS, useValue: config.GATEWAY_API_KEY_CACHE_SECONDS * 1000 },
      {
        provide: RATE_LIMIT_STORE,
        useValue: { redis, keyPrefix: `${config.LATTICE_NAMESPACE ?? 'lattice'}:rate` },
      },
      JwksCache,
      JwtStrategy,
      JwtGuard,
      ApiKeyCache,
      TenantRateLimiter,
      AuthenticationGuard,
      TenantStandingGuard,
      RateLimitGuard,
    ],
  })
  class GatewayModule {}

  const adapter = new DirectRoutesAdapter({
    bodyLimit: config.GATEWAY_BODY_LIMIT_BYTES,
    trustProxy: config.GATEWAY_TRUST_PROXY,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) =>
      requestIdFrom(req.headers['x-request-id'], randomUUID),
    requestIdHeader: false,
    logger: false,
    frameworkErrors: frameworkErrorHandler(logger),
  });
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule, adapter, {
    logger: new NestPinoLogger(logger),
  });
  const fastify = app.getHttpAdapter().getInstance();
  traceRequests(fastify);
  instrumentRequests(fastify, logger, app.get(MetricsRegistry).registry);
  const problems = new ProblemFilter(logger);
  app.useGlobalFilters(problems);
  // the API speaks JSON only: anything else is 415 before it reaches a handler
  fastify.removeContentTypeParser(['text/plain']);
  refuseBodiesThatAreNotUtf8(fastify);
  answerRefusedBodies(fastify);

  const document = describeApi(app);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs/json',
    yamlDocumentUrl: 'docs/yaml',
  });

  const routes = new DirectRoutes(app, {
    // in this order: who is calling, whether their tenant is in good standing, then whether
    // it is within its rate
    callerChecks: [
      app.get(AuthenticationGuard),
      app.get(TenantStandingGuard),
      app.get(RateLimitGuard),
    ],
    filter: problems,
  });
  await adapter.initWith(app, routes);
  await app.listen(config.GATEWAY_PORT, config.GATEWAY_HOST ?? config.LATTICE_BIND_HOST);
  return app;
}

export const gatewayService = defineService({
  name: 'gateway',
  config: gatewayConfigSpec,
  create: (config, logger) => createGatewayApp(config, logger),
  started: (config) => ({ port: config.GATEWAY_PORT }),
});
