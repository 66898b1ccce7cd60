import { INFERENCE_QUEUES } from '../inference/inference.schema';
import { RAG_INGEST_QUEUES } from '../rag/rag-ingest.schema';
import type { CreateQueueRequest } from './job.schema';

/**
 * The queues the platform's own workers lease from: the RAG service's `embedding` queue and
 * the inference queues. The scheduler declares them at start where they are missing, and
 * leaves them as they are where they exist (an operator may have changed their limits).
 */
export const PLATFORM_QUEUES: readonly CreateQueueRequest[] = [
  ...RAG_INGEST_QUEUES,
  ...INFERENCE_QUEUES,
];
