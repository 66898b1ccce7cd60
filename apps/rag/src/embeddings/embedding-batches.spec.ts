import fc from 'fast-check';
import { countTokens } from '../tokens/tokenizer';
import { planBatches } from './embedding-batches';
import { EmbeddingError } from './embedding-provider';

describe(planBatches.name, () => {
  it('keeps every text once, in order, each batch within count and tokens', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 60 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 30, max: 200 }),
        (texts, maxInputs, maxTokens) => {
          const batches = planBatches(
            texts,
            { maxInputs, maxTokens, maxInputTokens: 30 },
            countTokens,
          );
          expect(batches.flatMap((b) => b.indices)).toEqual(texts.map((_, i) => i));
          expect(batches.flatMap((b) => b.texts)).toEqual(texts);
          for (const batch of batches) {
            expect(batch.texts.length).toBeLessThanOrEqual(maxInputs);
            expect(batch.tokens).toBe(batch.texts.reduce((n, t) => n + countTokens(t), 0));
            expect(batch.tokens).toBeLessThanOrEqual(maxTokens);
          }
        },
      ),
    );
  });

  it('refuses a text longer than one input may be', () => {
    expect(() =>
      planBatches(
        ['fine', 'a b c d e f'],
        { maxInputs: 10, maxTokens: 100, maxInputTokens: 3 },
        countTokens,
      ),
    ).toThrow(EmbeddingError);
  });
});
