import {
  INFERENCE_STREAM_PREFIX,
  JOB_PAYLOAD_MAX_BYTES,
  InferenceJobPayload,
  type InferenceStreamChunk,
} from '@lattice/contracts';
import { PermanentJobError, type JobHandler, type JobResult } from '@lattice/worker';
import { runCompletion, type CompletionDeps } from '../completion/completion-runner';

/** Publishes one chunk under a stream's suffix (what follows `inference.v1.stream.`). */
export type StreamPublisher = (suffix: string, chunk: InferenceStreamChunk) => void;

/**
 * The handler of `chat-completion` jobs: a payload that breaks its contract fails the job for
 * good; otherwise the completion runs through the fallback chain, streaming its deltas to
 * the payload's subject, and its result is the job's.
 */
export function inferenceJobHandler(deps: CompletionDeps, publish: StreamPublisher): JobHandler {
  return async (job, { signal }) => {
    const parsed = InferenceJobPayload.safeParse(job.payload);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`)
        .join('; ');
      throw new PermanentJobError(`the payload is not a chat completion: ${issues}`);
    }
    const payload = parsed.data;
    const suffix = payload.stream?.subject.slice(INFERENCE_STREAM_PREFIX.length + 1);
    const result = await runCompletion(
      {
        payload,
        tenantId: job.tenantId,
        signal,
        ...(suffix ? { publish: (chunk: InferenceStreamChunk) => publish(suffix, chunk) } : {}),
      },
      deps,
    );
    // the scheduler keeps at most 64 KiB of result; the streamed answer reached its reader anyway
    if (Buffer.byteLength(JSON.stringify(result)) > JOB_PAYLOAD_MAX_BYTES)
      throw new PermanentJobError(
        `the answer (${result.text.length} characters) does not fit the ${JOB_PAYLOAD_MAX_BYTES / 1024} KiB a job result holds: ask for fewer tokens`,
      );
    return result as unknown as JobResult;
  };
}
