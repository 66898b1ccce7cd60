import {
  inferenceStreamSubject,
  type InferenceStreamChunk,
  type LeasedJob,
} from '@lattice/contracts';
import { PermanentJobError } from '@lattice/worker';
import { CircuitBreakers } from '../completion/circuit-breaker';
import type { ChatCall, CompletionDeps } from '../completion/completion-runner';
import { StaticEndpoints } from '../endpoints/model-endpoints';
import { inferenceJobHandler } from './inference-job.handler';

const job = (payload: LeasedJob['payload']): LeasedJob => ({
  id: '00000000-0000-4000-8000-000000000001',
  tenantId: '00000000-0000-4000-8000-000000000002',
  queue: 'inference-interactive',
  type: 'chat-completion',
  payload,
  priority: 'interactive',
  attempts: 1,
  maxAttempts: 1,
  timeoutSeconds: 60,
  leaseExpiresAt: null,
  labels: {},
});

function handlerAnswering(text: string) {
  const call: ChatCall = async (_url, request, options) => {
    options.onDelta(text);
    return {
      text,
      model: request.model,
      finishReason: 'stop',
      usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 },
    };
  };
  const deps: CompletionDeps = {
    endpoints: new StaticEndpoints([{ model: '*', url: 'http://m/v1' }]),
    breakers: new CircuitBreakers(),
    call,
    maxEndpointsPerModel: 1,
  };
  const published: [string, InferenceStreamChunk][] = [];
  const handler = inferenceJobHandler(deps, (suffix, chunk) => published.push([suffix, chunk]));
  const run = (payload: LeasedJob['payload']) =>
    handler(job(payload), {
      signal: new AbortController().signal,
      attempt: 1,
      workerId: 'w',
      reportProgress: () => undefined,
    });
  return { run, published };
}

const payload = {
  messages: [{ role: 'user', content: 'hello' }],
  models: ['m'],
  maxTokens: 10,
};

describe(inferenceJobHandler.name, () => {
  it('publishes under the suffix of the payload stream subject', async () => {
    const { run, published } = handlerAnswering('hi');
    await run({ ...payload, stream: { subject: inferenceStreamSubject('abc-123') } });
    expect(published.map(([suffix]) => suffix)).toEqual(['abc-123', 'abc-123']);
    expect(published[0]![1]).toEqual({ seq: 0, delta: 'hi' });
  });

  it('fails a payload that breaks its contract for good, naming the field', async () => {
    const { run } = handlerAnswering('hi');
    const error = await run({ ...payload, models: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentJobError);
    expect((error as Error).message).toContain('models');
    await expect(
      run({ ...payload, stream: { subject: 'gateway.v1.anything' } }),
    ).rejects.toBeInstanceOf(PermanentJobError);
  });

  it('fails for good an answer too big for a job result, rather than a result the scheduler refuses', async () => {
    const { run } = handlerAnswering('x'.repeat(70_000));
    await expect(run(payload)).rejects.toThrow(/does not fit the 64 KiB/);
  });
});
