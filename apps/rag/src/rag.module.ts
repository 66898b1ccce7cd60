import { Inject, Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { CursorCodec } from '@lattice/database';
import { deriveKey } from '@lattice/secrets';
import {
  Clock,
  HealthRegistry,
  LOGGER,
  SystemClock,
  databaseProviders,
  usageOutboxProvider,
} from '@lattice/service-runtime';
import { ChunkRepository } from './chunks/chunk.repository';
import { CollectionHandlers } from './collections/collection.handlers';
import { CollectionRepository } from './collections/collection.repository';
import { CollectionService } from './collections/collection.service';
import { DocumentIngestStore } from './documents/document-ingest.store';
import { DocumentIngestQueue } from './documents/document-ingest-queue';
import { DocumentHandlers } from './documents/document.handlers';
import { DocumentRepository } from './documents/document.repository';
import { DocumentService } from './documents/document.service';
import { StorageMetering } from './documents/storage-metering';
import { createEmbeddingProvider, type EmbeddingProvider } from './embeddings';
import { EMBEDDING_PROVIDER } from './embeddings/embedding-provider.token';
import {
  DocumentIngestJob,
  INGEST_SETTINGS,
  type IngestSettings,
} from './ingest/document-ingest.job';
import { EmbeddingModelWarmup, ingestWorkerProvider } from './ingest/ingest-worker';
import { SchedulerIngestQueue } from './ingest/scheduler-ingest-queue';
import { RetrievalHandlers } from './retrieval/retrieval.handlers';
import { RetrievalRepository } from './retrieval/retrieval.repository';
import {
  RETRIEVAL_SETTINGS,
  RetrievalService,
  type RetrievalSettings,
} from './retrieval/retrieval.service';
import { VECTOR_STORAGE, detectVectorStorage, type VectorStorage } from './storage/vector-storage';
import { PersonalDataHandlers } from './gdpr/personal-data.handlers';
import { PersonalDataService } from './gdpr/personal-data.service';
import { PersonalDocumentsRepository } from './gdpr/personal-documents.repository';
import {
  AnswerGenerator,
  GENERATION_SETTINGS,
  type GenerationSettings,
} from './query/answer-generator';
import { QueryPseudonyms } from './query/query-pseudonyms';
import { QueryRecordRepository } from './query/query-record.repository';
import { QueryHandlers } from './query/query.handlers';
import { ANSWER_SETTINGS, QueryService, type AnswerSettings } from './query/query.service';
import { TokenReconciliationService } from './query/token-reconciliation.service';
import type { RagConfig } from './rag.config';

export interface RagModuleOptions {
  /** Where new documents go to be ingested; scheduler jobs on the `embedding` queue by default. */
  ingestQueue?: DocumentIngestQueue;
  /** The embedding model; the one the configuration names by default. */
  embeddingProvider?: EmbeddingProvider;
  /** The ingest worker's identity with the scheduler (tests run several). */
  workerId?: string;
  /** How often an idle ingest worker asks for work without a hint (tests shorten it). */
  pollMs?: number;
  /** How often a silent answer job is read (tests and benches make it short). */
  answerPollMs?: number;
}

/** Says how vectors are searched, in the log at start and in `/readyz` details. */
class VectorSearchReport implements OnApplicationBootstrap {
  constructor(
    @Inject(VECTOR_STORAGE) private readonly storage: VectorStorage,
    private readonly health: HealthRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const { mode, pgvectorVersion, iterativeScan } = this.storage;
    this.health.detail('vectorSearch', { mode, pgvectorVersion, iterativeScan });
    if (mode === 'pgvector-hnsw')
      this.logger.info({ pgvectorVersion, iterativeScan }, 'vector search: pgvector HNSW');
    else
      this.logger.warn(
        'vector search: exact scan, since the database has no pgvector (production runs PostgreSQL with pgvector)',
      );
  }
}

@Module({})
export class RagModule {
  static forRoot(
    config: RagConfig,
    dataSource: DataSource,
    options: RagModuleOptions = {},
  ): DynamicModule {
    const retrieval: RetrievalSettings = {
      efSearch: config.RAG_HNSW_EF_SEARCH,
      candidates: config.RAG_RETRIEVAL_CANDIDATES,
    };
    const ingest: IngestSettings = {
      chunkTokens: config.RAG_CHUNK_TOKENS,
      overlapTokens: Math.min(config.RAG_CHUNK_OVERLAP_TOKENS, config.RAG_CHUNK_TOKENS - 1),
      batchChunks: config.RAG_INGEST_BATCH_CHUNKS,
    };
    const embeddings = options.embeddingProvider ?? createEmbeddingProvider(config);
    const generation: GenerationSettings = {
      queue: config.RAG_ANSWER_QUEUE,
      timeoutMs: config.RAG_ANSWER_TIMEOUT_MS,
      pollMs: options.answerPollMs ?? 1_000,
    };
    const answers: AnswerSettings = {
      models: config.RAG_ANSWER_MODELS,
      budgetTokens: config.RAG_CONTEXT_BUDGET_TOKENS,
    };
    return {
      module: RagModule,
      controllers: [
        CollectionHandlers,
        DocumentHandlers,
        RetrievalHandlers,
        QueryHandlers,
        PersonalDataHandlers,
      ],
      providers: [
        ...databaseProviders(dataSource),
        {
          provide: CursorCodec,
          useValue: new CursorCodec(deriveKey(config.LATTICE_INTERNAL_SECRET, 'cursor')),
        },
        // what the migration chose, read from the schema before anything handles a call
        { provide: VECTOR_STORAGE, useFactory: () => detectVectorStorage(dataSource) },
        { provide: RETRIEVAL_SETTINGS, useValue: retrieval },
        options.ingestQueue
          ? { provide: DocumentIngestQueue, useValue: options.ingestQueue }
          : { provide: DocumentIngestQueue, useClass: SchedulerIngestQueue },
        { provide: Clock, useValue: new SystemClock() },
        // stored bytes and answers' tokens, relayed to USAGE
        usageOutboxProvider({ schema: 'rag', table: 'usage_outbox' }, { label: 'usage reports' }),
        StorageMetering,
        { provide: EMBEDDING_PROVIDER, useValue: embeddings },
        { provide: INGEST_SETTINGS, useValue: ingest },
        DocumentIngestJob,
        ...(config.RAG_INGEST_WORKER
          ? [
              EmbeddingModelWarmup,
              ingestWorkerProvider({
                namespace: config.LATTICE_NAMESPACE,
                concurrency: config.RAG_INGEST_CONCURRENCY,
                workerId: options.workerId,
                pollMs: options.pollMs,
              }),
            ]
          : []),
        CollectionRepository,
        DocumentRepository,
        ChunkRepository,
        RetrievalRepository,
        CollectionService,
        DocumentService,
        DocumentIngestStore,
        RetrievalService,
        VectorSearchReport,
        {
          provide: QueryPseudonyms,
          useValue: new QueryPseudonyms(
            deriveKey(config.LATTICE_INTERNAL_SECRET, 'rag-query-pseudonyms'),
          ),
        },
        { provide: GENERATION_SETTINGS, useValue: generation },
        { provide: ANSWER_SETTINGS, useValue: answers },
        QueryRecordRepository,
        AnswerGenerator,
        QueryService,
        TokenReconciliationService,
        PersonalDocumentsRepository,
        PersonalDataService,
      ],
      exports: [
        CollectionService,
        DocumentService,
        DocumentIngestStore,
        RetrievalService,
        QueryService,
      ],
    };
  }
}
