import { RagInitial1768000000000 } from './1768000000000-rag-initial';

/** Every migration of the rag schema, in order. */
export const ragMigrations = [RagInitial1768000000000];
