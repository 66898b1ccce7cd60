import { EmbeddingError } from './embedding-provider';
import { UniversalSentenceEncoderProvider } from './universal-sentence-encoder.embedding-provider';

const cosine = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i], 0);

describe(UniversalSentenceEncoderProvider.name, () => {
  const provider = new UniversalSentenceEncoderProvider(2);
  beforeAll(() => provider.load(), 60_000);

  it('gives 512-dimensional unit vectors, from weights inside the package', async () => {
    expect(provider.model).toBe('universal-sentence-encoder-lite');
    expect(provider.dimension).toBe(512);
    const [vector] = await provider.embed(['How do I reset my password?']);
    expect(vector).toHaveLength(512);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
  });

  it('puts sentences of like meaning closer than unrelated ones', async () => {
    const [cat, kitten, revenue] = await provider.embed([
      'The cat sat on the mat.',
      'A kitten was sitting on a rug.',
      'Quarterly revenue grew by ten percent.',
    ]);
    expect(cosine(cat, kitten)).toBeGreaterThan(cosine(cat, revenue) + 0.2);
  });

  it('keeps order and values across its internal batches, and repeats itself', async () => {
    const texts = ['one', 'two', 'three', 'four', 'five'];
    const together = await provider.embed(texts);
    const alone = await Promise.all(texts.map(async (t) => (await provider.embed([t]))[0]));
    together.forEach((vector, i) => expect(cosine(vector, alone[i])).toBeCloseTo(1, 5));
    expect(cosine(together[0], together[1])).toBeLessThan(0.99);
  });

  it('answers empty input and empty texts without failing', async () => {
    expect(await provider.embed([])).toEqual([]);
    const [empty] = await provider.embed(['']);
    expect(empty).toHaveLength(512);
    expect(empty.every(Number.isFinite)).toBe(true);
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(provider.embed(['x'], controller.signal)).rejects.toEqual(
      expect.objectContaining({ code: 'aborted' }),
    );
    await expect(provider.embed(['x'], controller.signal)).rejects.toBeInstanceOf(EmbeddingError);
  });
});
