import { z } from 'zod';
import { commonConfig, databaseConfig, port, variable, type ConfigOf } from '@lattice/config';
import { GpuModelName, INFERENCE_INTERACTIVE_QUEUE } from '@lattice/contracts';
import { embeddingsConfig } from './embeddings/embeddings.config';

export const ragConfigSpec = {
  ...commonConfig,
  ...databaseConfig,
  ...embeddingsConfig,
  RAG_HTTP_PORT: variable(port(8087), 'Port of the RAG service health and metrics endpoints.'),
  RAG_HNSW_EF_SEARCH: variable(
    z.coerce.number().int().min(10).max(1_000).default(100),
    'Candidates the HNSW search keeps (hnsw.ef_search); more is better recall, slower.',
  ),
  RAG_RETRIEVAL_CANDIDATES: variable(
    z.coerce.number().int().min(1).max(1_000).default(50),
    'Chunks each of vector and full-text search hands to the rank fusion (at least topK).',
  ),
  RAG_ANSWER_MODELS: variable(
    z
      .string()
      .default('stand-in-small,stand-in-large')
      .transform((v) => [...new Set(v.split(',').map((s) => s.trim()))].filter(Boolean))
      .pipe(z.array(GpuModelName).min(1).max(8)),
    'Models that write answers, in order of preference (comma-separated): the fallback chain an inference job tries; a query naming a model puts it first.',
  ),
  RAG_ANSWER_QUEUE: variable(
    z.string().min(1).max(63).default(INFERENCE_INTERACTIVE_QUEUE),
    'The scheduler queue answers are submitted to as interactive inference jobs.',
  ),
  RAG_ANSWER_TIMEOUT_MS: variable(
    z.coerce.number().int().min(1_000).max(600_000).default(120_000),
    'How long a query waits for its answer before it cancels the job and answers TIMEOUT.',
  ),
  RAG_CONTEXT_BUDGET_TOKENS: variable(
    z.coerce.number().int().min(256).max(128_000).default(4_000),
    'Tokens (cl100k) the whole prompt of an answer may take: instructions, passages and question.',
  ),
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
