import { z } from 'zod';
import { commonConfig, databaseConfig, port, variable, type ConfigOf } from '@lattice/config';
import { embeddingsConfig } from './embeddings/embeddings.config';

export const ragConfigSpec = {
  ...commonConfig,
  ...databaseConfig,
  RAG_HTTP_PORT: variable(port(8087), 'Port of the RAG service health and metrics endpoints.'),
  RAG_HNSW_EF_SEARCH: variable(
    z.coerce.number().int().min(10).max(1_000).default(100),
    'Candidates the HNSW search keeps (hnsw.ef_search); more is better recall, slower.',
  ),
  RAG_RETRIEVAL_CANDIDATES: variable(
    z.coerce.number().int().min(1).max(1_000).default(50),
    'Chunks each of vector and full-text search hands to the rank fusion (at least topK).',
  ),
  ...embeddingsConfig,
  RAG_INGEST_WORKER: variable(
    z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true'),
    'Run the ingest worker (jobs of the embedding queue) in this process; false leaves them to other replicas.',
  ),
  RAG_INGEST_CONCURRENCY: variable(
    z.coerce.number().int().min(1).max(64).default(2),
    'Documents one replica ingests at once.',
  ),
  RAG_CHUNK_TOKENS: variable(
    z.coerce.number().int().min(16).max(8_000).default(300),
    'Largest chunk, in tokens (cl100k).',
  ),
  RAG_CHUNK_OVERLAP_TOKENS: variable(
    z.coerce.number().int().min(0).max(4_000).default(40),
    'Tokens of the end of a chunk that the next chunk of the same section repeats, at most.',
  ),
  RAG_INGEST_BATCH_CHUNKS: variable(
    z.coerce.number().int().min(1).max(2_048).default(32),
    'Chunks embedded per step of an ingest job; the job reports its progress after each step.',
  ),
};

export type RagConfig = ConfigOf<typeof ragConfigSpec>;
