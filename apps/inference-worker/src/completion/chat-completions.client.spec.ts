import { startModelServerStandIn, type RunningStandIn } from '@lattice/model-server-stand-in';
import { eventually } from '@lattice/testing';
import { JobAbortedError } from '@lattice/worker';
import {
  ModelCallError,
  completionsUrl,
  streamChatCompletion,
  type ChatCompletionRequest,
} from './chat-completions.client';

const request: ChatCompletionRequest = {
  model: 'stand-in-small',
  messages: [
    { role: 'system', content: 'Answer from the passages only.' },
    {
      role: 'user',
      content:
        '<passage id="p1">Lattice schedules jobs with fair share across tenants.</passage>\n' +
        '<question>How does Lattice schedule jobs?</question>',
    },
  ],
  maxTokens: 100,
};

/** The model server is outside the product: its stand-in speaks the same protocol over HTTP. */
describe(streamChatCompletion.name, () => {
  let server: RunningStandIn;
  const call = (
    overrides: Partial<ChatCompletionRequest> = {},
    signal = new AbortController().signal,
  ) => {
    const deltas: string[] = [];
    const outcome = streamChatCompletion(
      server.url,
      { ...request, ...overrides },
      { signal, timeoutMs: 2_000, onDelta: (d) => deltas.push(d) },
    );
    return { outcome, deltas };
  };
  const failureOf = async (promise: Promise<unknown>) => {
    const error = await promise.catch((e: unknown) => e);
    if (!(error instanceof ModelCallError))
      throw new Error(`expected a ModelCallError: ${String(error)}`);
    return error;
  };

  beforeAll(async () => {
    server = await startModelServerStandIn({ tokenDelayMs: 1 });
  });
  afterAll(() => server.close());
  afterEach(() => server.clearFailures());

  it('streams the answer delta by delta, with the provider usage', async () => {
    const { outcome, deltas } = call();
    const result = await outcome;
    expect(result.text).toBe('Lattice schedules jobs with fair share across tenants. [p1]');
    expect(deltas.join('')).toBe(result.text);
    expect(deltas.length).toBeGreaterThan(3);
    expect(result).toMatchObject({ model: 'stand-in-small', finishReason: 'stop' });
    expect(result.usage).toEqual({
      promptTokens: expect.any(Number),
      completionTokens: 12,
      totalTokens: result.usage!.promptTokens + 12,
    });
  });

  it('tells a model the server does not serve from a bad request and a failing server', async () => {
    expect((await failureOf(call({ model: 'nope' }).outcome)).failure).toBe('unknown-model');
    expect((await failureOf(call({ messages: [] }).outcome)).failure).toBe('bad-request');
    server.setFailure('*', '500');
    const failed = await failureOf(call().outcome);
    expect(failed).toMatchObject({ failure: 'server-error', status: 500, endpointFault: true });
    server.setFailure('*', '429');
    expect((await failureOf(call().outcome)).failure).toBe('overloaded');
  });

  it('fails a stream that breaks off, after handing on what arrived', async () => {
    server.setFailure('*', 'cut:3');
    const { outcome, deltas } = call();
    expect((await failureOf(outcome)).failure).toBe('broken-stream');
    expect(deltas).toHaveLength(3);
  });

  it('times out a server that does not begin its answer, and closes the request', async () => {
    server.setFailure('*', 'slow');
    const before = server.calls.length;
    const deltas: string[] = [];
    const outcome = streamChatCompletion(server.url, request, {
      signal: new AbortController().signal,
      timeoutMs: 200,
      onDelta: (d) => deltas.push(d),
    });
    expect((await failureOf(outcome)).failure).toBe('timeout');
    await eventually(() => expect(server.calls[before]?.outcome).toBe('client-closed'));
  });

  it('aborts the upstream request when the job is stopped, with the job abort as the reason', async () => {
    server.setFailure('*', 'slow');
    const before = server.calls.length;
    const controller = new AbortController();
    const { outcome } = call({}, controller.signal);
    await eventually(() => expect(server.calls[before]?.model).toBe('stand-in-small'));
    controller.abort(new JobAbortedError('cancelled'));
    await expect(outcome).rejects.toEqual(new JobAbortedError('cancelled'));
    await eventually(() => expect(server.calls[before]?.outcome).toBe('client-closed'));
  });

  it('reports an endpoint nobody listens on as unreachable', async () => {
    const closed = await startModelServerStandIn();
    await closed.close();
    const error = await failureOf(
      streamChatCompletion(closed.url, request, {
        signal: new AbortController().signal,
        timeoutMs: 2_000,
        onDelta: () => undefined,
      }),
    );
    expect(error.failure).toBe('unreachable');
  });
});

describe(completionsUrl.name, () => {
  it('joins the base and the path however the base ends', () => {
    expect(completionsUrl('http://n:8000/v1')).toBe('http://n:8000/v1/chat/completions');
    expect(completionsUrl('http://n:8000/v1/')).toBe('http://n:8000/v1/chat/completions');
  });
});
