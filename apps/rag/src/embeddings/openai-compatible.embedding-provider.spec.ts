import { eventually } from '@lattice/testing';
import { OpenAiEmbeddingsStandIn } from '../../test/openai-embeddings-stand-in';
import { countTokens } from '../tokens/tokenizer';
import { EmbeddingError, normalize, type EmbeddingErrorCode } from './embedding-provider';
import {
  OpenAiCompatibleEmbeddingProvider,
  type OpenAiCompatibleOptions,
} from './openai-compatible.embedding-provider';

const DIMENSION = 8;

async function failure(promise: Promise<unknown>): Promise<EmbeddingError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof EmbeddingError) return error;
    throw error;
  }
  throw new Error('the call succeeded');
}

describe(OpenAiCompatibleEmbeddingProvider.name, () => {
  let server: OpenAiEmbeddingsStandIn;
  let baseUrl: string;
  let waits: number[];

  beforeEach(async () => {
    server = new OpenAiEmbeddingsStandIn({
      dimension: DIMENSION,
      apiKey: 'sk-test',
      model: 'embed-small',
    });
    baseUrl = await server.start();
    waits = [];
  });
  afterEach(() => server.stop());

  /** A provider whose back-off waits are recorded instead of slept. */
  const provider = (options: Partial<OpenAiCompatibleOptions> = {}) =>
    new OpenAiCompatibleEmbeddingProvider({
      baseUrl,
      model: 'embed-small',
      dimension: DIMENSION,
      apiKey: 'sk-test',
      sleep: async (ms) => void waits.push(ms),
      random: () => 0.5,
      ...options,
    });

  it('embeds texts in their order, as unit vectors, with the key and the model', async () => {
    const texts = ['first text', 'second text', 'third'];
    const vectors = await provider().embed(texts);
    expect(vectors).toEqual(texts.map((t) => normalize(server.vectorOf(t))));
    for (const v of vectors) expect(Math.hypot(...v)).toBeCloseTo(1, 10);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0].authorization).toBe('Bearer sk-test');
    expect(server.requests[0].body).toEqual({
      model: 'embed-small',
      input: texts,
      encoding_format: 'float',
    });
  });

  it('reads base64-encoded vectors too', async () => {
    await server.stop();
    server = new OpenAiEmbeddingsStandIn({ dimension: DIMENSION, base64: true });
    baseUrl = await server.start();
    const [vector] = await provider().embed(['text']);
    expect(vector).toEqual(normalize(server.vectorOf('text')).map((x) => expect.closeTo(x, 6)));
  });

  it('accepts a base URL that already ends in /v1', async () => {
    await provider({ baseUrl: `${baseUrl}/v1/` }).embed(['x']);
    expect(server.requests).toHaveLength(1);
  });

  it('cuts the texts into batches by count and by tokens, keeping their order', async () => {
    const texts = ['a', 'b', 'c', 'd', 'e'];
    const byCount = await provider({ batch: { maxInputs: 2 } }).embed(texts);
    expect(server.requests.map((r) => r.body.input)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(byCount).toEqual(texts.map((t) => normalize(server.vectorOf(t))));

    server.requests.length = 0;
    const long = ['word '.repeat(30), 'word '.repeat(30), 'short'];
    await provider({ batch: { maxTokens: 40 } }).embed(long);
    expect(server.requests.map((r) => r.body.input.length)).toEqual([1, 2]);
    for (const r of server.requests) {
      expect(r.body.input.reduce((n, t) => n + countTokens(t), 0)).toBeLessThanOrEqual(40);
    }
  });

  it('refuses a text over the input limit before sending anything', async () => {
    const error = await failure(
      provider({ batch: { maxInputTokens: 5 } }).embed(['ok', 'one two three four five six seven']),
    );
    expect(error.code).toBe('invalid_input');
    expect(server.requests).toHaveLength(0);
  });

  it('waits as long as Retry-After says on a 429, and backs off with jitter on a 500', async () => {
    server.failures.push(
      {
        status: 429,
        headers: { 'retry-after': '2' },
        body: { error: { message: 'Rate limit reached', type: 'requests' } },
      },
      { status: 500 },
      { status: 503, headers: { 'retry-after-ms': '750' } },
    );
    const vectors = await provider().embed(['retry me']);
    expect(vectors).toEqual([normalize(server.vectorOf('retry me'))]);
    expect(server.requests).toHaveLength(4);
    // 2 s asked for; then half (random 0.5) of 500 ms * 2^1; then the 750 ms asked for
    expect(waits).toEqual([2000, 500, 750]);
  });

  it('gives up after the last retry with a code that says why', async () => {
    server.failures.push({ status: 429 }, { status: 429 }, { status: 429 });
    const limited = await failure(provider({ retry: { maxRetries: 2 } }).embed(['x']));
    expect(limited.code).toBe('rate_limited');
    expect(limited.status).toBe(429);
    expect(limited.retryable).toBe(true);
    expect(server.requests).toHaveLength(3);
    expect(waits).toEqual([250, 500]);

    server.failures.push({ status: 502 }, { status: 500 });
    const down = await failure(provider({ retry: { maxRetries: 1 } }).embed(['x']));
    expect(down.code).toBe('unavailable');
  });

  it.each<[number, EmbeddingErrorCode]>([
    [400, 'invalid_input'],
    [422, 'invalid_input'],
    [403, 'unauthorized'],
  ])('does not retry a %i, which no retry would change', async (status, code) => {
    server.failures.push({ status, body: { error: { message: 'nope' } } });
    const error = await failure(provider().embed(['x']));
    expect(error.code).toBe(code);
    expect(error.message).toContain('nope');
    expect(server.requests).toHaveLength(1);
  });

  it('says so when the key or the model is wrong', async () => {
    expect((await failure(provider({ apiKey: 'sk-wrong' }).embed(['x']))).code).toBe(
      'unauthorized',
    );
    expect((await failure(provider({ model: 'nope' }).embed(['x']))).code).toBe('model_not_found');
  });

  it('refuses answers that break the protocol: wrong dimension, missing items, no list', async () => {
    expect((await failure(provider({ dimension: 4 }).embed(['x']))).code).toBe('invalid_response');
    server.failures.push({
      status: 200,
      body: { data: [{ index: 0, embedding: server.vectorOf('a') }] },
    });
    expect((await failure(provider().embed(['a', 'b']))).code).toBe('invalid_response');
    server.failures.push({ status: 200, body: { object: 'list' } });
    expect((await failure(provider().embed(['a']))).code).toBe('invalid_response');
  });

  it('retries a request that gets no answer within the timeout, then gives up', async () => {
    server.failures.push({ status: 0, hang: true }, { status: 0, hang: true });
    const error = await failure(
      provider({ timeoutMs: 200, retry: { maxRetries: 1 } }).embed(['x']),
    );
    expect(error.code).toBe('timeout');
    expect(server.requests).toHaveLength(2);
  });

  it('reports a server that cannot be reached as unavailable', async () => {
    await server.stop();
    const error = await failure(provider({ retry: { maxRetries: 1 } }).embed(['x']));
    expect(error.code).toBe('unavailable');
    expect(waits).toHaveLength(1);
  });

  it('stops when the caller aborts, before or during a request', async () => {
    const before = new AbortController();
    before.abort();
    expect((await failure(provider().embed(['x'], before.signal))).code).toBe('aborted');
    expect(server.requests).toHaveLength(0);

    server.failures.push({ status: 0, hang: true });
    const during = new AbortController();
    const pending = provider().embed(['x'], during.signal);
    await eventually(() => expect(server.requests).toHaveLength(1));
    during.abort();
    expect((await failure(pending)).code).toBe('aborted');
    expect(server.requests).toHaveLength(1);
  });

  it('holds requests back to its client-side rate limit', async () => {
    const limited = provider({
      batch: { maxInputs: 1 },
      rateLimit: { requests: 1, windowSeconds: 1 },
    });
    await limited.embed(['a', 'b']);
    expect(server.requests).toHaveLength(2);
    // the limiter lets the second request through in the next window, never in the first
    expect(server.requests[1].at - server.requests[0].at).toBeGreaterThanOrEqual(900);
  });
});
