import type { InferenceJobPayload, InferenceStreamChunk } from '@lattice/contracts';
import { JobAbortedError, PermanentJobError } from '@lattice/worker';
import {
  StaticEndpoints,
  held,
  type EndpointRequest,
  type EndpointSource,
  type ModelEndpoint,
} from '../endpoints/model-endpoints';
import { CircuitBreakers } from './circuit-breaker';
import { ModelCallError, type ChatCompletionOutcome } from './chat-completions.client';
import {
  NoModelAnsweredError,
  runCompletion,
  type ChatCall,
  type CompletionDeps,
} from './completion-runner';

const usage = { promptTokens: 12, completionTokens: 3, totalTokens: 15 };

const payload = (models: string[]): InferenceJobPayload => ({
  messages: [{ role: 'user', content: 'What is Lattice?' }],
  models,
  maxTokens: 64,
});

/** A model server per URL: answers with its pieces, or fails as told. */
type Behaviour = string[] | ModelCallError | { pieces: string[]; then: ModelCallError };

function fakeCall(behaviours: Record<string, Behaviour>) {
  const calls: { url: string; model: string }[] = [];
  const call: ChatCall = async (url, request, options) => {
    calls.push({ url, model: request.model });
    const behaviour = behaviours[`${request.model}@${url}`];
    if (!behaviour) throw new Error(`no behaviour for ${request.model}@${url}`);
    if (behaviour instanceof ModelCallError) throw behaviour;
    const pieces = Array.isArray(behaviour) ? behaviour : behaviour.pieces;
    for (const piece of pieces) options.onDelta(piece);
    if (!Array.isArray(behaviour)) throw behaviour.then;
    const outcome: ChatCompletionOutcome = {
      text: pieces.join(''),
      model: request.model,
      finishReason: 'stop',
      usage,
    };
    return outcome;
  };
  return { call, calls };
}

const breakerOptions = {
  windowMs: 60_000,
  minimumCalls: 2,
  failureRateThreshold: 0.5,
  coolDownMs: 30_000,
  halfOpenCalls: 1,
};

function setup(
  behaviours: Record<string, Behaviour>,
  endpoints: EndpointSource = new StaticEndpoints([
    { model: 'small', url: 'http://a/v1' },
    { model: 'large', url: 'http://b/v1' },
  ]),
) {
  const fake = fakeCall(behaviours);
  const chunks: InferenceStreamChunk[] = [];
  const breakers = new CircuitBreakers(breakerOptions, () => 0);
  const deps: CompletionDeps = {
    endpoints,
    breakers,
    call: fake.call,
    maxEndpointsPerModel: 3,
    now: () => 0,
  };
  const run = (models: string[], signal = new AbortController().signal) =>
    runCompletion(
      { payload: payload(models), tenantId: 'tenant', signal, publish: (c) => chunks.push(c) },
      deps,
    );
  return { run, calls: fake.calls, chunks, breakers };
}

const serverError = () => new ModelCallError('server-error', '500: boom', 500);

describe(runCompletion.name, () => {
  it('streams the deltas in order, then a final chunk, and returns the provider usage', async () => {
    const { run, chunks } = setup({ 'small@http://a/v1': ['Lat', 'tice', '.'] });
    const result = await run(['small']);
    expect(chunks).toEqual([
      { seq: 0, delta: 'Lat' },
      { seq: 1, delta: 'tice' },
      { seq: 2, delta: '.' },
      { seq: 3, done: true, model: 'small', usage, finishReason: 'stop' },
    ]);
    expect(result).toMatchObject({
      text: 'Lattice.',
      model: 'small',
      usage,
      usageCounted: true,
      attempts: [{ model: 'small', endpoint: 'http://a/v1', outcome: 'succeeded', node: null }],
    });
  });

  it('falls back to the next model when the first fails, and says so in the attempts', async () => {
    const { run, calls, chunks } = setup({
      'small@http://a/v1': serverError(),
      'large@http://b/v1': ['ok'],
    });
    const result = await run(['small', 'large']);
    expect(calls.map((c) => c.model)).toEqual(['small', 'large']);
    expect(result.model).toBe('large');
    expect(result.attempts.map((a) => [a.model, a.outcome, a.status])).toEqual([
      ['small', 'failed', 500],
      ['large', 'succeeded', 200],
    ]);
    expect(chunks.map((c) => c.seq)).toEqual([0, 1]);
  });

  it('skips an endpoint whose breaker is open without calling it', async () => {
    const { run, calls, breakers } = setup({
      'small@http://a/v1': serverError(),
      'large@http://b/v1': ['ok'],
    });
    await run(['small', 'large']);
    await run(['small', 'large']); // a second failure of a: 2 of 2, the breaker opens
    expect(breakers.for('http://a/v1').state).toBe('open');
    calls.length = 0;
    const result = await run(['small', 'large']);
    expect(calls.map((c) => c.url)).toEqual(['http://b/v1']);
    expect(result.attempts[0]).toMatchObject({ model: 'small', outcome: 'skipped' });
  });

  it('fails for good on a bad request, trying no other model', async () => {
    const { run, calls, chunks } = setup({
      'small@http://a/v1': new ModelCallError('bad-request', '400: messages too long', 400),
      'large@http://b/v1': ['ok'],
    });
    await expect(run(['small', 'large'])).rejects.toBeInstanceOf(PermanentJobError);
    expect(calls).toHaveLength(1);
    expect(chunks).toEqual([{ seq: 0, error: expect.stringContaining('messages too long') }]);
  });

  it('fails for good when no endpoint serves any of the models, and does not trip breakers', async () => {
    const unknown = () => new ModelCallError('unknown-model', '404: no such model', 404);
    const { run, breakers } = setup({
      'small@http://a/v1': unknown(),
      'large@http://b/v1': unknown(),
    });
    for (let i = 0; i < 3; i++)
      await expect(run(['small', 'large'])).rejects.toBeInstanceOf(PermanentJobError);
    expect(breakers.states()).toEqual({ 'http://a/v1': 'closed', 'http://b/v1': 'closed' });
  });

  it('fails for another attempt when every model failed for a reason that may pass', async () => {
    const { run, chunks } = setup({
      'small@http://a/v1': serverError(),
      'large@http://b/v1': new ModelCallError('timeout', 'no answer within 100 ms'),
    });
    const error = await run(['small', 'large']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoModelAnsweredError);
    expect(error).not.toBeInstanceOf(PermanentJobError);
    expect(chunks.at(-1)).toEqual({ seq: 0, error: expect.stringContaining('no model answered') });
  });

  it('fails for another attempt when no endpoint is known for any model', async () => {
    const { run, calls } = setup({}, new StaticEndpoints([]));
    await expect(run(['small'])).rejects.toBeInstanceOf(NoModelAnsweredError);
    expect(calls).toHaveLength(0);
  });

  it('does not continue an answer that broke off with another model', async () => {
    const { run, calls, chunks } = setup({
      'small@http://a/v1': {
        pieces: ['Half', ' an'],
        then: new ModelCallError('broken-stream', 'the stream broke off'),
      },
      'large@http://b/v1': ['whole'],
    });
    await expect(run(['small', 'large'])).rejects.toBeInstanceOf(PermanentJobError);
    expect(calls).toHaveLength(1);
    expect(chunks).toEqual([
      { seq: 0, delta: 'Half' },
      { seq: 1, delta: ' an' },
      { seq: 2, error: expect.stringContaining('broke off') },
    ]);
  });

  it('reports a failed node and takes the next one gpu-nodes names for the same model', async () => {
    const reports: { failed: ModelEndpoint; tried: string[] }[] = [];
    const routed: EndpointSource = {
      first: async ({ model }: EndpointRequest) =>
        held({ model, url: 'http://node-1/v1', node: 'node-1' }),
      next: async ({ model, tried }: EndpointRequest, failed: ModelEndpoint) => {
        reports.push({ failed, tried: tried.map((t) => t.url) });
        return tried.length < 2 ? held({ model, url: 'http://node-2/v1', node: 'node-2' }) : null;
      },
    };
    const { run } = setup(
      { 'small@http://node-1/v1': serverError(), 'small@http://node-2/v1': ['fine'] },
      routed,
    );
    const result = await run(['small']);
    expect(reports).toEqual([
      {
        failed: { model: 'small', url: 'http://node-1/v1', node: 'node-1' },
        tried: ['http://node-1/v1'],
      },
    ]);
    expect(result.attempts.map((a) => [a.node, a.outcome])).toEqual([
      ['node-1', 'failed'],
      ['node-2', 'succeeded'],
    ]);
  });

  it('stops at the abort of its job, with the abort as the reason, counting nothing against the endpoint', async () => {
    const controller = new AbortController();
    const fake: ChatCall = (_url, _request, { signal }) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(new Error('aborted fetch')));
        controller.abort(new JobAbortedError('cancelled'));
      });
    const breakers = new CircuitBreakers({ ...breakerOptions, minimumCalls: 1 }, () => 0);
    const run = runCompletion(
      { payload: payload(['small']), tenantId: 't', signal: controller.signal },
      {
        endpoints: new StaticEndpoints([{ model: '*', url: 'http://a/v1' }]),
        breakers,
        call: fake,
        maxEndpointsPerModel: 1,
      },
    );
    await expect(run).rejects.toEqual(new JobAbortedError('cancelled'));
    expect(breakers.states()).toEqual({ 'http://a/v1': 'closed' });
  });

  it('estimates the usage, and says so, where the server counted none', async () => {
    const call: ChatCall = async (_url, request, options) => {
      options.onDelta('12345678');
      return { text: '12345678', model: request.model, finishReason: 'length', usage: null };
    };
    const result = await runCompletion(
      { payload: payload(['small']), tenantId: 't', signal: new AbortController().signal },
      {
        endpoints: new StaticEndpoints([{ model: '*', url: 'http://a/v1' }]),
        breakers: new CircuitBreakers(),
        call,
        maxEndpointsPerModel: 1,
      },
    );
    expect(result.usageCounted).toBe(false);
    expect(result.usage.completionTokens).toBe(2);
    expect(result.finishReason).toBe('length');
  });
});
