import { z } from 'zod';
import { commonConfig, integer, port, variable, type ConfigOf } from '@lattice/config';
import { INFERENCE_INTERACTIVE_QUEUE, SchedulerQueueName } from '@lattice/contracts';
import { parseStaticEndpoints } from './endpoints/model-endpoints';

export const inferenceWorkerConfigSpec = {
  ...commonConfig,
  INFERENCE_WORKER_HTTP_PORT: variable(
    port(8091),
    'Port of the inference worker health and metrics endpoints.',
  ),
  INFERENCE_WORKER_QUEUE: variable(
    SchedulerQueueName.default(INFERENCE_INTERACTIVE_QUEUE),
    'The scheduler queue the worker serves (inference-interactive or inference-batch).',
  ),
  INFERENCE_WORKER_CONCURRENCY: variable(
    integer(1, 1_000, 8),
    'Completions one worker streams at once.',
  ),
  INFERENCE_ENDPOINT_SOURCE: variable(
    z.enum(['route', 'lease']).default('route'),
    'How a model server is found: a route from gpu-nodes (gpu.v1.route), or a VRAM lease for the job (gpu.v1.leases.create) on a node serving the model.',
  ),
  INFERENCE_LEASE_VRAM_MIB: variable(
    integer(1, 1_048_576, 16_384),
    'VRAM one call holds when INFERENCE_ENDPOINT_SOURCE is lease, in MiB.',
  ),
  LATTICE_MODEL_ENDPOINTS: variable(
    z
      .string()
      .default('')
      .transform((text, ctx) => {
        try {
          return parseStaticEndpoints(text);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
          return z.NEVER;
        }
      }),
    'Model servers used when gpu-nodes has no route for a model: `model=url` pairs separated by commas, `*=url` for any model (url: the OpenAI-compatible base, like http://127.0.0.1:9300/v1).',
  ),
  INFERENCE_CALL_TIMEOUT_MS: variable(
    integer(100, 600_000, 30_000),
    'The longest wait for a model server to begin its answer, and then for each next chunk.',
  ),
  INFERENCE_MAX_ENDPOINTS_PER_MODEL: variable(
    integer(1, 16, 3),
    'Endpoints tried for one model of the fallback chain before the next model.',
  ),
  INFERENCE_BREAKER_WINDOW_MS: variable(
    integer(1_000, 3_600_000, 30_000),
    'The rolling window over which each endpoint breaker counts failures.',
  ),
  INFERENCE_BREAKER_MIN_CALLS: variable(
    integer(1, 10_000, 5),
    'Calls an endpoint breaker must have seen in its window before it may open.',
  ),
  INFERENCE_BREAKER_FAILURE_RATE: variable(
    z.coerce.number().gt(0).max(1).default(0.5),
    'The share of failed calls in the window that opens an endpoint breaker.',
  ),
  INFERENCE_BREAKER_COOL_DOWN_MS: variable(
    integer(0, 3_600_000, 15_000),
    'How long an open breaker refuses calls before it lets one trial call through.',
  ),
};

export type InferenceWorkerConfig = ConfigOf<typeof inferenceWorkerConfigSpec>;
