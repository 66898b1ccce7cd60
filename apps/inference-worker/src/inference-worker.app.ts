import { Module, type INestApplication } from '@nestjs/common';
import { InferenceStream, type InferenceAttempt } from '@lattice/contracts';
import type { Logger } from '@lattice/logging';
import { EventBus, RpcClient, connectNats, natsCredentials } from '@lattice/messaging';
import { ContextSigner } from '@lattice/request-context';
import {
  HealthRegistry,
  LOGGER,
  MetricsRegistry,
  RuntimeModule,
  defineService,
  listenService,
} from '@lattice/service-runtime';
import { Counter, Gauge, Histogram } from 'prom-client';
import { CircuitBreakers, type BreakerState } from './completion/circuit-breaker';
import { streamChatCompletion } from './completion/chat-completions.client';
import type { CompletionDeps } from './completion/completion-runner';
import {
  GpuLeasedEndpoints,
  GpuRoutedEndpoints,
  INFERENCE_WORKER,
} from './endpoints/gpu-endpoints';
import { FallbackEndpoints, StaticEndpoints } from './endpoints/model-endpoints';
import { inferenceJobHandler } from './inference/inference-job.handler';
import { InferenceWorkerRunner } from './inference/inference-worker.runner';
import { INFERENCE_CHAT_JOB_TYPE } from '@lattice/contracts';
import { inferenceWorkerConfigSpec, type InferenceWorkerConfig } from './inference-worker.config';

export interface InferenceWorkerAppOptions {
  /** Its identity with the scheduler; the pod name or `<host>-<pid>` when left out. */
  workerId?: string;
  /** How often an idle worker asks for work without a hint (tests shorten it). */
  pollMs?: number;
  /** The clock of the circuit breakers. */
  now?: () => number;
}

const BREAKER_LEVEL: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * The inference worker: leases `chat-completion` jobs of its queue from the scheduler
 * (`libs/worker`), finds a model server through gpu-nodes (a route, or a VRAM lease) or the
 * configured endpoints, streams the completion with a timeout and a circuit breaker per
 * endpoint, falls back along the job's models, and publishes each delta to the job's stream
 * subject. No database; health and metrics over HTTP. Returned listening.
 */
export async function createInferenceWorkerApp(
  config: InferenceWorkerConfig,
  logger: Logger,
  options: InferenceWorkerAppOptions = {},
): Promise<INestApplication> {
  const credentials = natsCredentials(config);
  const signer = ContextSigner.fromConfig(INFERENCE_WORKER, config);
  const nats = await connectNats(config.NATS_URL, 'lattice-inference-worker', credentials);

  @Module({
    providers: [
      {
        provide: InferenceWorkerRunner,
        inject: [RpcClient, EventBus, HealthRegistry, MetricsRegistry, LOGGER],
        useFactory: (
          rpc: RpcClient,
          bus: EventBus,
          health: HealthRegistry,
          metrics: MetricsRegistry,
          log: Logger,
        ) => {
          const registers = [metrics.registry];
          const attemptsTotal = new Counter({
            name: 'lattice_inference_attempts_total',
            help: 'Calls to model servers (and calls skipped for an open breaker), by model and outcome.',
            labelNames: ['model', 'outcome'],
            registers,
          });
          const callSeconds = new Histogram({
            name: 'lattice_inference_call_seconds',
            help: 'How long calls to model servers took, streaming included, by model and outcome.',
            labelNames: ['model', 'outcome'],
            buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
            registers,
          });
          const tokensTotal = new Counter({
            name: 'lattice_inference_tokens_total',
            help: 'Tokens the model servers counted, by model and kind (prompt, completion).',
            labelNames: ['model', 'kind'],
            registers,
          });
          const breakerState = new Gauge({
            name: 'lattice_inference_breaker_state',
            help: 'Each endpoint circuit breaker: 0 closed, 1 half-open, 2 open.',
            labelNames: ['endpoint'],
            registers,
          });
          const breakers = new CircuitBreakers(
            {
              windowMs: config.INFERENCE_BREAKER_WINDOW_MS,
              minimumCalls: config.INFERENCE_BREAKER_MIN_CALLS,
              failureRateThreshold: config.INFERENCE_BREAKER_FAILURE_RATE,
              coolDownMs: config.INFERENCE_BREAKER_COOL_DOWN_MS,
              halfOpenCalls: 1,
            },
            options.now,
            (endpoint, from, to) => {
              breakerState.set({ endpoint }, BREAKER_LEVEL[to]);
              log[to === 'open' ? 'warn' : 'info'](
                { endpoint, from, to },
                'endpoint breaker changed',
              );
            },
          );
          const gpu =
            config.INFERENCE_ENDPOINT_SOURCE === 'lease'
              ? new GpuLeasedEndpoints(rpc, log, () => config.INFERENCE_LEASE_VRAM_MIB)
              : new GpuRoutedEndpoints(rpc, log);
          const deps: CompletionDeps = {
            endpoints: new FallbackEndpoints(
              gpu,
              new StaticEndpoints(config.LATTICE_MODEL_ENDPOINTS),
            ),
            breakers,
            call: (endpoint, request, call) =>
              streamChatCompletion(endpoint, request, {
                ...call,
                timeoutMs: config.INFERENCE_CALL_TIMEOUT_MS,
              }),
            maxEndpointsPerModel: config.INFERENCE_MAX_ENDPOINTS_PER_MODEL,
            ...(options.now ? { now: options.now } : {}),
            logger: log,
            onAttempt: (attempt: InferenceAttempt) => {
              attemptsTotal.inc({ model: attempt.model, outcome: attempt.outcome });
              if (attempt.outcome !== 'skipped')
                callSeconds.observe(
                  { model: attempt.model, outcome: attempt.outcome },
                  attempt.durationMs / 1000,
                );
            },
          };
          const handler = inferenceJobHandler(deps, (suffix, chunk) =>
            bus.publish(InferenceStream, chunk, suffix),
          );
          return new InferenceWorkerRunner(
            {
              nats,
              namespace: config.LATTICE_NAMESPACE,
              signer,
              queue: config.INFERENCE_WORKER_QUEUE,
              concurrency: config.INFERENCE_WORKER_CONCURRENCY,
              handlers: {
                [INFERENCE_CHAT_JOB_TYPE]: async (job, context) => {
                  const result = await handler(job, context);
                  const usage = result as
                    | { model: string; usage: { promptTokens: number; completionTokens: number } }
                    | undefined;
                  if (usage) {
                    tokensTotal.inc(
                      { model: usage.model, kind: 'prompt' },
                      usage.usage.promptTokens,
                    );
                    tokensTotal.inc(
                      { model: usage.model, kind: 'completion' },
                      usage.usage.completionTokens,
                    );
                  }
                  return result;
                },
              },
              ...(options.workerId ? { workerId: options.workerId } : {}),
              ...(options.pollMs ? { pollMs: options.pollMs } : {}),
              // the service runtime drains on signals, and the runner drains the worker
              signals: [],
              logger: log,
            },
            log,
            health,
          );
        },
      },
    ],
  })
  class InferenceModule {}

  @Module({
    imports: [
      RuntimeModule.forRoot({
        service: INFERENCE_WORKER,
        nats,
        logger,
        namespace: config.LATTICE_NAMESPACE,
        signer,
      }),
      InferenceModule,
    ],
  })
  class InferenceWorkerAppModule {}

  return listenService(InferenceWorkerAppModule, {
    service: INFERENCE_WORKER,
    natsUrl: config.NATS_URL,
    natsCredentials: credentials,
    namespace: config.LATTICE_NAMESPACE,
    logger,
    port: config.INFERENCE_WORKER_HTTP_PORT,
    host: config.LATTICE_BIND_HOST,
  });
}

export const inferenceWorkerService = defineService({
  name: INFERENCE_WORKER,
  config: inferenceWorkerConfigSpec,
  create: (config, logger) => createInferenceWorkerApp(config, logger),
  started: (config) => ({
    port: config.INFERENCE_WORKER_HTTP_PORT,
    queue: config.INFERENCE_WORKER_QUEUE,
    endpointSource: config.INFERENCE_ENDPOINT_SOURCE,
    configuredEndpoints: config.LATTICE_MODEL_ENDPOINTS.length,
  }),
});
