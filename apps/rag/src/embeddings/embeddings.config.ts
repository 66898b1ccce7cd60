import { z } from 'zod';
import { variable, type ConfigOf } from '@lattice/config';

/** The embedding model's variables; the RAG service's config spec spreads them in. */
export const embeddingsConfig = {
  LATTICE_EMBEDDINGS_URL: variable(
    z.url({ protocol: /^https?$/ }).optional(),
    'Base URL of an OpenAI-compatible embeddings server (OpenAI, TEI, vLLM); requests go to {url}/v1/embeddings. Unset: the offline model (Universal Sentence Encoder lite, 512 dimensions) that ships with the service.',
  ),
  LATTICE_EMBEDDINGS_MODEL: variable(
    z.string().min(1).optional(),
    'The model the embeddings server is asked for (required with LATTICE_EMBEDDINGS_URL), recorded with each collection.',
  ),
  LATTICE_EMBEDDINGS_API_KEY: variable(
    z.string().min(1).optional(),
    'Bearer key for the embeddings server, if it needs one.',
    { sensitive: true },
  ),
  LATTICE_EMBEDDINGS_DIMENSION: variable(
    z.coerce.number().int().min(1).max(16_000).optional(),
    'Vector size of the model; known OpenAI models need none, others must name it.',
  ),
  LATTICE_EMBEDDINGS_BATCH_SIZE: variable(
    z.coerce.number().int().min(1).max(2_048).default(64),
    'Most texts in one request to the embeddings server.',
  ),
  LATTICE_EMBEDDINGS_BATCH_TOKENS: variable(
    z.coerce.number().int().min(1).default(16_384),
    'Most tokens (cl100k) in one request to the embeddings server.',
  ),
  LATTICE_EMBEDDINGS_TIMEOUT_MS: variable(
    z.coerce.number().int().min(100).max(600_000).default(30_000),
    'Time limit of one request to the embeddings server; a request past it is retried.',
  ),
  LATTICE_EMBEDDINGS_MAX_RETRIES: variable(
    z.coerce.number().int().min(0).max(20).default(5),
    'Retries of a request that got 429, 5xx or no answer, with exponential back-off and jitter (Retry-After honoured).',
  ),
  LATTICE_EMBEDDINGS_REQUESTS_PER_MINUTE: variable(
    z.coerce.number().int().min(1).optional(),
    'Client-side limit of requests per minute to the embeddings server, per replica (unset: none).',
  ),
  LATTICE_EMBEDDINGS_TOKENS_PER_MINUTE: variable(
    z.coerce.number().int().min(1).optional(),
    'Client-side limit of tokens per minute to the embeddings server, per replica (unset: none).',
  ),
};

export type EmbeddingsConfig = ConfigOf<typeof embeddingsConfig>;
