import { z } from 'zod';
import { Uuid } from '../common/common.schema';
import type { CreateQueueRequest } from '../scheduler/job.schema';

/*
 * Ingest as scheduler jobs: the RAG service submits one `rag.ingest` job per stored document to
 * the `embedding` queue, on the document's tenant, and its own worker parses, chunks and embeds
 * the document there.
 */

/** The queue ingest jobs wait on; the RAG service's workers serve it. */
export const RAG_INGEST_QUEUE = 'embedding';
/** The job type of one document's ingest. */
export const RAG_INGEST_JOB_TYPE = 'rag.ingest';

/** The embedding queue as the scheduler declares it: CPU (or an embeddings server), no GPUs. */
export const RAG_INGEST_QUEUES: readonly CreateQueueRequest[] = [
  {
    name: RAG_INGEST_QUEUE,
    description: 'Documents parsed, chunked and embedded for retrieval (RAG ingest)',
    workerPool: 'rag',
    maxTenantShare: 0.5,
    defaultTimeoutSeconds: 900,
    defaultMaxAttempts: 3,
    gpusPerJob: 0,
  },
];

/** What an ingest job carries: the document, nothing of its content (that stays in `rag`). */
export const RagIngestPayload = z.object({ collectionId: Uuid, documentId: Uuid }).strict();
export type RagIngestPayload = z.infer<typeof RagIngestPayload>;
