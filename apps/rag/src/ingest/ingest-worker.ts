import { Inject, Injectable, type OnApplicationBootstrap, type Provider } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { RAG_INGEST_JOB_TYPE, RAG_INGEST_QUEUE } from '@lattice/contracts';
import { ContextSigner } from '@lattice/request-context';
import { HealthRegistry, LOGGER, NATS_CONNECTION } from '@lattice/service-runtime';
import { QueueWorkerRunner } from '@lattice/worker';
import type { EmbeddingProvider } from '../embeddings/embedding-provider';
import { EMBEDDING_PROVIDER } from '../embeddings/embedding-provider.token';
import { DocumentIngestJob } from './document-ingest.job';

export interface IngestWorkerOptions {
  namespace?: string;
  concurrency: number;
  /** Its identity with the scheduler; the pod name or `<host>-<pid>` when left out. */
  workerId?: string;
  /** How often an idle worker asks for work without a hint (tests shorten it). */
  pollMs?: number;
}

/** The ingest worker of the `embedding` queue, running in the RAG service's process. */
export function ingestWorkerProvider(options: IngestWorkerOptions): Provider {
  return {
    provide: QueueWorkerRunner,
    inject: [NATS_CONNECTION, ContextSigner, HealthRegistry, LOGGER, DocumentIngestJob],
    useFactory: (
      nats: NatsConnection,
      signer: ContextSigner,
      health: HealthRegistry,
      logger: Logger,
      ingest: DocumentIngestJob,
    ) =>
      new QueueWorkerRunner(
        {
          nats,
          namespace: options.namespace,
          signer,
          queue: RAG_INGEST_QUEUE,
          concurrency: options.concurrency,
          handlers: { [RAG_INGEST_JOB_TYPE]: (job, context) => ingest.run(job, context) },
          ...(options.workerId ? { workerId: options.workerId } : {}),
          ...(options.pollMs ? { pollMs: options.pollMs } : {}),
          // the service runtime drains on signals, and the runner drains the worker
          signals: [],
          logger,
        },
        logger,
        health,
      ),
  };
}

/**
 * Loads the embedding model when the service starts rather than on the first document, and
 * says in the log how long that took (the offline model reads its weights then).
 */
@Injectable()
export class EmbeddingModelWarmup implements OnApplicationBootstrap {
  constructor(
    @Inject(EMBEDDING_PROVIDER) private readonly embeddings: EmbeddingProvider,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const loadable = this.embeddings as EmbeddingProvider & { load?: () => Promise<void> };
    if (typeof loadable.load !== 'function') return;
    const started = performance.now();
    loadable.load().then(
      () =>
        this.logger.info(
          {
            model: this.embeddings.model,
            dimension: this.embeddings.dimension,
            loadMs: Math.round(performance.now() - started),
          },
          'embedding model loaded',
        ),
      (error: unknown) =>
        this.logger.error(
          { err: error, model: this.embeddings.model },
          'embedding model did not load',
        ),
    );
  }
}
