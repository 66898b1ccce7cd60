import fc from 'fast-check';
import {
  assembleContext,
  ContextBudgetError,
  countPromptTokens,
  type RankedCandidate,
} from './context-assembly';

/** A stand-in tokenizer for the tests: one token per whitespace-separated word. */
const words = (text: string) => (text.match(/\S+/g) ?? []).length;
const cutWords = (text: string, max: number) => (text.match(/\S+/g) ?? []).slice(0, max).join(' ');

const canary = 'cnry_0123456789';
const question = 'how are keys rotated';

function candidate(i: number, wordCount: number, score = 1 - i / 100): RankedCandidate {
  return {
    documentId: `doc-${i}`,
    chunkId: `chunk-${i}`,
    score,
    text: Array.from({ length: wordCount }, (_, w) => `w${i}_${w}`).join(' '),
    documentName: `doc ${i}.md`,
  };
}

const overhead = assembleContext([], {
  countTokens: words,
  question,
  canary,
  budgetTokens: 10_000,
}).tokens;

describe('assembleContext', () => {
  it('takes passages in rank order while they fit, and cites them', () => {
    const cands = [candidate(0, 50), candidate(1, 50), candidate(2, 50)];
    const one = assembleContext(cands, {
      countTokens: words,
      question,
      canary,
      budgetTokens: 10_000,
    });
    expect(one.passages.map((p) => p.chunkId)).toEqual(['chunk-0', 'chunk-1', 'chunk-2']);
    expect(one.citations).toEqual([
      { id: '1', documentId: 'doc-0', chunkId: 'chunk-0', score: 1 },
      { id: '2', documentId: 'doc-1', chunkId: 'chunk-1', score: 0.99 },
      { id: '3', documentId: 'doc-2', chunkId: 'chunk-2', score: 0.98 },
    ]);
    expect(one.tokens).toBe(countPromptTokens(one.messages, words));
    expect(one.dropped).toEqual([]);
  });

  it('counts the fixed part of the prompt against the budget', () => {
    // room for one 50-word passage and its frame, not two
    const perPassage =
      assembleContext([candidate(0, 50)], {
        countTokens: words,
        question,
        canary,
        budgetTokens: 10_000,
      }).tokens - overhead;
    const result = assembleContext([candidate(0, 50), candidate(1, 50)], {
      countTokens: words,
      question,
      canary,
      budgetTokens: overhead + perPassage + perPassage - 1,
    });
    expect(result.passages).toHaveLength(1);
    expect(result.dropped).toEqual([{ documentId: 'doc-1', chunkId: 'chunk-1', score: 0.99 }]);
  });

  it('skips a passage that does not fit and takes a shorter one after it', () => {
    const result = assembleContext([candidate(0, 40), candidate(1, 400), candidate(2, 40)], {
      countTokens: words,
      question,
      canary,
      budgetTokens: overhead + 120,
    });
    expect(result.passages.map((p) => p.chunkId)).toEqual(['chunk-0', 'chunk-2']);
    expect(result.passages.map((p) => p.id)).toEqual(['1', '2']);
    expect(result.dropped.map((d) => d.chunkId)).toEqual(['chunk-1']);
  });

  it('cuts a top passage that alone exceeds the budget, at a token boundary, when it can', () => {
    const budgetTokens = overhead + 60;
    const cut = assembleContext([candidate(0, 500), candidate(1, 10)], {
      countTokens: words,
      question,
      canary,
      budgetTokens,
      truncate: cutWords,
    });
    expect(cut.truncated).toBe(true);
    expect(cut.passages).toHaveLength(1);
    expect(candidate(0, 500).text.startsWith(cut.passages[0].text)).toBe(true);
    expect(cut.tokens).toBeLessThanOrEqual(budgetTokens);
    expect(cut.tokens).toBeGreaterThan(budgetTokens - 10);

    const uncut = assembleContext([candidate(0, 500), candidate(1, 10)], {
      countTokens: words,
      question,
      canary,
      budgetTokens,
    });
    expect(uncut.truncated).toBe(false);
    expect(uncut.passages.map((p) => p.chunkId)).toEqual(['chunk-1']);
  });

  it('uses 4,000 tokens when no budget is given', () => {
    const result = assembleContext([candidate(0, 3000), candidate(1, 3000)], {
      countTokens: words,
      question,
      canary,
    });
    expect(result.passages).toHaveLength(1);
    expect(result.tokens).toBeLessThanOrEqual(4000);
  });

  it('fails clearly when the question alone is over the budget', () => {
    expect(() =>
      assembleContext([candidate(0, 5)], {
        countTokens: words,
        question: 'word '.repeat(500),
        canary,
        budgetTokens: 100,
      }),
    ).toThrow(ContextBudgetError);
    expect(() =>
      assembleContext([], { countTokens: words, question, canary, budgetTokens: 0 }),
    ).toThrow(RangeError);
  });

  it('takes a repeated chunk once and skips empty ones', () => {
    const result = assembleContext(
      [candidate(0, 5), candidate(0, 5), { ...candidate(1, 0), text: '  ' }],
      {
        countTokens: words,
        question,
        canary,
      },
    );
    expect(result.passages.map((p) => p.chunkId)).toEqual(['chunk-0']);
  });

  it('never exceeds the budget, keeps rank order and accounts for every candidate', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 12 }),
        fc.integer({ min: overhead, max: overhead + 1500 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 6 }),
        (sizes, budgetTokens, withTruncate, perMessageTokens) => {
          const cands = sizes.map((n, i) => candidate(i, n));
          let result;
          try {
            result = assembleContext(cands, {
              countTokens: words,
              question,
              canary,
              budgetTokens,
              perMessageTokens,
              truncate: withTruncate ? cutWords : undefined,
            });
          } catch (e) {
            // only when the fixed part plus the template's per-message tokens is over the budget
            expect(e).toBeInstanceOf(ContextBudgetError);
            expect(overhead + 2 * perMessageTokens).toBeGreaterThan(budgetTokens);
            return;
          }
          expect(result.tokens).toBeLessThanOrEqual(budgetTokens);
          expect(result.tokens).toBe(countPromptTokens(result.messages, words, perMessageTokens));
          const ranks = result.passages.map((p) => Number(p.documentId.slice(4)));
          expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
          expect(result.passages.length + result.dropped.length).toBe(cands.length);
          for (const p of result.passages) {
            const original = cands[Number(p.documentId.slice(4))].text;
            if (result.truncated && p.id === '1') expect(original.startsWith(p.text)).toBe(true);
            else expect(p.text).toBe(original);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
