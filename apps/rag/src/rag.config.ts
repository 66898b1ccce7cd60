import { z } from 'zod';
import { commonConfig, databaseConfig, port, variable, type ConfigOf } from '@lattice/config';

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
};

export type RagConfig = ConfigOf<typeof ragConfigSpec>;
