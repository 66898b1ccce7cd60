import { RagInitial1768000000000 } from './1768000000000-rag-initial';
import { RagQueries1768200000000 } from './1768200000000-rag-queries';

/** Every migration of the rag schema, in order. */
export const ragMigrations = [RagInitial1768000000000, RagQueries1768200000000];
