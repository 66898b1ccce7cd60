import type { INestApplication } from '@nestjs/common';
import type { ServiceDatabaseOptions } from '@lattice/database';
import type { Logger } from '@lattice/logging';
import { UsageStream } from '@lattice/contracts';
import { ensureAuditStream, ensureStream } from '@lattice/messaging';
import {
  createServiceApp,
  defineService,
  serviceDatabase,
  type ServiceDatabaseConfig,
} from '@lattice/service-runtime';
import { ragMigrations } from '../migrations';
import { ragConfigSpec, type RagConfig } from './rag.config';
import { RagModule, type RagModuleOptions } from './rag.module';

export function ragDatabase(config: ServiceDatabaseConfig): ServiceDatabaseOptions {
  return serviceDatabase(config, { schema: 'rag', entities: [], migrations: ragMigrations });
}

export interface RagAppOptions extends RagModuleOptions {
  /** Run migrations before starting (the launcher and tests do; a chart runs them as a Job). */
  migrate?: boolean;
}

/**
 * The RAG service: a tenant's collections and documents, their ingest (a worker of the
 * `embedding` queue that parses, chunks and embeds each document as a scheduler job), and
 * retrieval over their chunks
 * (pgvector HNSW fused with full-text search, or an exact scan where the database has no
 * pgvector); plus an HTTP listener for health and metrics. Returned listening.
 */
export async function createRagApp(
  config: RagConfig,
  logger: Logger,
  options: RagAppOptions = {},
): Promise<INestApplication> {
  return createServiceApp({
    service: 'rag',
    config,
    logger,
    database: ragDatabase(config),
    migrate: options.migrate,
    streams: [
      ensureAuditStream,
      // the tenants service counts it: stored bytes and answers' tokens are metered to it
      (nats, ns) =>
        ensureStream(nats, ns, UsageStream, { max_age: 30 * 24 * 3600 * 1_000_000_000 }),
    ],
    auditRecorder: true,
    http: { port: config.RAG_HTTP_PORT, host: config.LATTICE_BIND_HOST },
    module: (dataSource) => RagModule.forRoot(config, dataSource, options),
  });
}

export const ragService = defineService({
  name: 'rag',
  config: ragConfigSpec,
  database: ragDatabase,
  create: (config, logger, { migrate }) => createRagApp(config, logger, { migrate }),
  started: (config) => ({ port: config.RAG_HTTP_PORT }),
});
