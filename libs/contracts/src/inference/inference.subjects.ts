import { event } from '../subject';
import { INFERENCE_STREAM_PREFIX, InferenceStreamChunk } from './inference.schema';

/**
 * The deltas of a streamed completion, on `inference.v1.stream.<id>` (the payload's
 * `stream.subject`). Core NATS: the caller subscribes before it submits the job, and the job's
 * result holds the whole text should a chunk be missed.
 */
export const InferenceStream = event(INFERENCE_STREAM_PREFIX, InferenceStreamChunk, {
  suffixed: true,
});
