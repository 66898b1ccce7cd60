import { RagInitial1768000000000 } from './1768000000000-rag-initial';
import { RagIngestJobs1768100000000 } from './1768100000000-rag-ingest-jobs';
import { RagQueries1768200000000 } from './1768200000000-rag-queries';

/** Every migration of the rag schema, in order. */
export const ragMigrations = [
  RagInitial1768000000000,
  RagIngestJobs1768100000000,
  RagQueries1768200000000,
];
