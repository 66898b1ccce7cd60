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
import {
  DocumentIngestQueue,
  PendingDocumentsIngestQueue,
} from './documents/document-ingest-queue';
import { DocumentHandlers } from './documents/document.handlers';
import { DocumentRepository } from './documents/document.repository';
import { DocumentService } from './documents/document.service';
import { RetrievalHandlers } from './retrieval/retrieval.handlers';
import { RetrievalRepository } from './retrieval/retrieval.repository';
import {
  RETRIEVAL_SETTINGS,
  RetrievalService,
  type RetrievalSettings,
} from './retrieval/retrieval.service';
import { VECTOR_STORAGE, detectVectorStorage, type VectorStorage } from './storage/vector-storage';
import { createEmbeddingProvider, type EmbeddingProvider } from './embeddings';
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
import { EMBEDDING_PROVIDER } from './embeddings/embedding-provider.token';
import {
  ANSWER_SETTINGS,
  QueryService,
  type AnswerSettings,
} from './query/query.service';
import { TokenReconciliationService } from './query/token-reconciliation.service';
import type { RagConfig } from './rag.config';

export interface RagModuleOptions {
  /** Where new documents go to be ingested; documents stay pending without one. */
  ingestQueue?: DocumentIngestQueue;
  /** Embeds questions; the configured provider when left out. */
  embeddingProvider?: EmbeddingProvider;
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
          : { provide: DocumentIngestQueue, useClass: PendingDocumentsIngestQueue },
        CollectionRepository,
        DocumentRepository,
        ChunkRepository,
        RetrievalRepository,
        CollectionService,
        DocumentService,
        DocumentIngestStore,
        RetrievalService,
        VectorSearchReport,
        { provide: Clock, useClass: SystemClock },
        {
          provide: EMBEDDING_PROVIDER,
          useFactory: () => options.embeddingProvider ?? createEmbeddingProvider(config),
        },
        {
          provide: QueryPseudonyms,
          useValue: new QueryPseudonyms(
            deriveKey(config.LATTICE_INTERNAL_SECRET, 'rag-query-pseudonyms'),
          ),
        },
        { provide: GENERATION_SETTINGS, useValue: generation },
        { provide: ANSWER_SETTINGS, useValue: answers },
        usageOutboxProvider({ schema: 'rag' }, { label: 'RAG token usage reports' }),
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
