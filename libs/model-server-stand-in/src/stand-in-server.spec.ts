import { eventually } from '@lattice/testing';
import { parseFailure, parseFailureMap } from './stand-in-failure';
import {
  FAIL_HEADER,
  STAND_IN_FINGERPRINT,
  startModelServerStandIn,
  type RunningStandIn,
} from './stand-in-server';

/** The parts of a completion the tests read. */
interface Completion {
  choices: { message: { content: string }; finish_reason: string }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

const body = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    model: 'stand-in-small',
    messages: [
      {
        role: 'user',
        content:
          '<passage id="p1">Lattice runs on Kubernetes. It has a gateway.</passage>\n<question>What does Lattice run on?</question>',
      },
    ],
    ...extra,
  });

describe(startModelServerStandIn.name, () => {
  let server: RunningStandIn;
  const post = (text: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: text,
    });

  beforeAll(async () => {
    server = await startModelServerStandIn();
  });
  afterAll(() => server.close());
  afterEach(() => server.clearFailures());

  it('lists its models, labelled as a stand-in', async () => {
    const res = await fetch(`${server.url}/models`);
    expect(await res.json()).toEqual({
      object: 'list',
      data: [
        expect.objectContaining({ id: 'stand-in-small', owned_by: STAND_IN_FINGERPRINT }),
        expect.objectContaining({ id: 'stand-in-large', owned_by: STAND_IN_FINGERPRINT }),
      ],
    });
  });

  it('answers a completion in one JSON body, with usage and its fingerprint', async () => {
    const res = await post(body());
    expect(res.status).toBe(200);
    const json = (await res.json()) as Completion;
    expect(json).toMatchObject({
      object: 'chat.completion',
      model: 'stand-in-small',
      system_fingerprint: STAND_IN_FINGERPRINT,
      choices: [
        {
          message: { role: 'assistant', content: 'Lattice runs on Kubernetes. [p1]' },
          finish_reason: 'stop',
        },
      ],
    });
    expect(json.usage.completion_tokens).toBe(8);
    expect(json.usage.total_tokens).toBe(json.usage.prompt_tokens + 8);
  });

  it('streams server-sent events: deltas, a finish reason, the usage chunk, then [DONE]', async () => {
    const res = await post(body({ stream: true, stream_options: { include_usage: true } }));
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = (await res.text()).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.replace(/^data: /, '')));
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(text).toBe('Lattice runs on Kubernetes. [p1]');
    expect(chunks.at(-2).choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 8 } });
  });

  it('stops at max_tokens with finish_reason length', async () => {
    const res = await post(body({ max_tokens: 3 }));
    const json = (await res.json()) as Completion;
    expect(json.choices[0]).toMatchObject({
      message: { content: 'Lattice runs on' },
      finish_reason: 'length',
    });
  });

  it('answers 404 model_not_found for a model it does not serve, and 400 for a bad body', async () => {
    const unknown = await post(body({ model: 'gpt-9' }));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'model_not_found' } });
    expect((await post('{"model":"stand-in-small"}')).status).toBe(400);
    expect((await post('not json')).status).toBe(400);
  });

  it('fails as told, by header or per model', async () => {
    expect((await post(body(), { [FAIL_HEADER]: '429' })).status).toBe(429);
    server.setFailure('stand-in-small', '503');
    expect((await post(body())).status).toBe(503);
    expect((await post(body({ model: 'stand-in-large' }))).status).toBe(200);
  });

  it('breaks a stream off after the deltas it was told', async () => {
    server.setFailure('*', 'cut:2');
    const res = await post(body({ stream: true }));
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    expect(server.calls.at(-1)).toMatchObject({ outcome: 'cut' });
  });

  it('notices a caller that goes away while it waits', async () => {
    server.setFailure('*', 'slow');
    const before = server.calls.length;
    const controller = new AbortController();
    const call = fetch(`${server.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body(),
      signal: controller.signal,
    });
    await eventually(() =>
      expect(server.calls[before]).toMatchObject({
        model: 'stand-in-small',
        outcome: 'in-progress',
      }),
    );
    controller.abort();
    await expect(call).rejects.toThrow();
    await eventually(() =>
      expect(server.calls[before]).toMatchObject({ outcome: 'client-closed' }),
    );
  });
});

describe(parseFailure.name, () => {
  it('reads statuses, slow and cut', () => {
    expect(parseFailure('500')).toEqual({ kind: 'status', status: 500 });
    expect(parseFailure('slow:250')).toEqual({ kind: 'slow', delayMs: 250 });
    expect(parseFailure('cut')).toEqual({ kind: 'cut', afterChunks: 1 });
    expect(() => parseFailure('explode')).toThrow(/not a failure/);
    expect(() => parseFailure('slow:-1')).toThrow(/whole number/);
    expect(parseFailureMap('a=500, *=cut:3')).toEqual(
      new Map([
        ['a', { kind: 'status', status: 500 }],
        ['*', { kind: 'cut', afterChunks: 3 }],
      ]),
    );
  });
});
