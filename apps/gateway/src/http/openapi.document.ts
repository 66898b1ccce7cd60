import { Module, type INestApplication, type Type } from '@nestjs/common';
import { PARAMTYPES_METADATA, SELF_DECLARED_DEPS_METADATA } from '@nestjs/common/constants';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { HealthController, MetricsController } from '@lattice/service-runtime';
import { AuditController } from '../audit/audit.controller';
import { AuthController } from '../auth/auth.controller';
import { ClusterController } from '../gpu/cluster.controller';
import { GpuController } from '../gpu/gpu.controller';
import { IdentityController } from '../identity/identity.controller';
import { JobsController } from '../jobs/jobs.controller';
import { CollectionsController } from '../rag/collections.controller';
import { RagQueryController } from '../rag/rag-query.controller';
import { QueuesController } from '../jobs/queues.controller';
import { TenantsController } from '../tenants/tenants.controller';
import { PROBLEM_SCHEMA } from './openapi';

export const API_VERSION = '0.1.0';

/** Where the committed document lives, from the repository root. */
export const OPENAPI_DOCUMENT_PATH = 'apps/gateway/openapi.json';

/**
 * Every controller the gateway serves: its own (gateway.app.ts), the audit module's, and the
 * runtime's health and metrics. A controller mounted there and missing here is missing from
 * the committed document.
 */
export const GATEWAY_API_CONTROLLERS: Type[] = [
  AuthController,
  IdentityController,
  TenantsController,
  QueuesController,
  JobsController,
  GpuController,
  CollectionsController,
  RagQueryController,
  ClusterController,
  AuditController,
  HealthController,
  MetricsController,
];

const TAGS: Record<string, string> = {
  auth: 'Sign-in, tokens and the signing keys',
  identity: 'Users, roles, service accounts and API keys',
  tenants: 'Tenants, their plans, quotas and usage',
  jobs: 'Job queues, jobs and dead letters',
  gpu: 'The GPU fleet, its health, and VRAM leases',
  cluster: 'The platform at a glance',
  audit: 'The audit trail, GDPR requests and consents',
  health: 'Liveness, readiness and metrics',
};

/** The OpenAPI document of the routes an application serves, as clients get it from /docs/json. */
export function describeApi(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Lattice API')
    .setDescription('Multi-tenant platform for GenAI workloads. Errors are RFC 9457 problem+json.')
    .setVersion(API_VERSION)
    .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
    // relative: the gateway that serves the document
    .addServer('/', 'This gateway')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      description: 'An access token from /v1/auth/login, or an API key (lat_<prefix>_<secret>)',
    })
    .addSecurityRequirements('bearer');
  for (const [name, description] of Object.entries(TAGS)) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build());
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, Problem: PROBLEM_SCHEMA },
  };
  // every route needs the bearer credentials unless it says it is public
  for (const operations of Object.values(document.paths)) {
    for (const operation of Object.values(operations as Record<string, Record<string, unknown>>)) {
      if (operation['x-lattice-permission'] === 'public') operation.security = [];
    }
  }
  return document;
}

/** A controller's constructor dependencies, as Nest would look them up. */
function dependenciesOf(controller: Type): unknown[] {
  const types = (Reflect.getMetadata(PARAMTYPES_METADATA, controller) ?? []) as unknown[];
  const injected = (Reflect.getMetadata(SELF_DECLARED_DEPS_METADATA, controller) ?? []) as {
    index: number;
    param: unknown;
  }[];
  return types.map((type, index) => injected.find((i) => i.index === index)?.param ?? type);
}

/**
 * The document without the platform: the controllers in an application that is only
 * scanned (Nest's preview mode), their dependencies declared but never made, so nothing
 * connects to NATS, PostgreSQL or Redis.
 */
export async function generateApiDocument(): Promise<OpenAPIObject> {
  const tokens = new Set(GATEWAY_API_CONTROLLERS.flatMap(dependenciesOf));
  @Module({
    controllers: GATEWAY_API_CONTROLLERS,
    providers: [...tokens].map((token) => ({ provide: token as Type, useValue: {} })),
  })
  class ApiDocumentModule {}
  const app = await NestFactory.create(ApiDocumentModule, new FastifyAdapter(), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  try {
    return describeApi(app);
  } finally {
    await app.close();
  }
}

/** The committed form of the document. */
export const renderApiDocument = (document: OpenAPIObject): string =>
  `${JSON.stringify(document, null, 2)}\n`;
