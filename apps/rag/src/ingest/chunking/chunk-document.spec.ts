import fc from 'fast-check';
import { countTokens } from '../../tokens/tokenizer';
import type { ParsedDocument } from '../parsing/parsed-document';
import { chunkDocument, ChunkingError, type Chunk } from './chunk-document';

/** A document of sections joined by blank lines, as the parsers build them. */
function document(
  sections: { headingPath: string[]; text: string; page?: number }[],
): ParsedDocument {
  let text = '';
  const out: ParsedDocument['sections'] = [];
  for (const section of sections) {
    if (text) text += '\n\n';
    out.push({ ...section, startOffset: text.length });
    text += section.text;
  }
  return { text, sections: out };
}

const words = (n: number, word = 'lorem') => Array.from({ length: n }, () => word).join(' ');

/** What a chunking must always give, whatever the text. */
function expectChunkingHolds(doc: ParsedDocument, chunks: Chunk[], max: number, overlap: number) {
  const covered = new Uint8Array(doc.text.length);
  chunks.forEach((chunk, i) => {
    expect(chunk.index).toBe(i);
    expect(chunk.text).toBe(doc.text.slice(chunk.startOffset, chunk.endOffset));
    expect(chunk.text.trim()).toBe(chunk.text);
    expect(chunk.tokenCount).toBe(countTokens(chunk.text));
    expect(chunk.tokenCount).toBeLessThanOrEqual(max);
    // the heading path is that of the chunk's first section, and an ancestor of all it holds
    const inside = doc.sections.filter(
      (s) => s.startOffset < chunk.endOffset && s.startOffset + s.text.length > chunk.startOffset,
    );
    expect(inside[0].headingPath).toEqual(chunk.headingPath);
    for (const s of inside)
      expect(s.headingPath.slice(0, chunk.headingPath.length)).toEqual(chunk.headingPath);
    if (inside.length > 1) expect(chunk.headingPath.length).toBeGreaterThan(0);
    covered.fill(1, chunk.startOffset, chunk.endOffset);

    // a word is cut only where it alone is too long for a chunk
    const cutsWord = /\S/u.test(doc.text[chunk.endOffset] ?? ' ');
    if (cutsWord) {
      expect(chunk.text).not.toMatch(/\s/u);
      const wordEnd = doc.text.slice(chunk.endOffset).search(/\s|$/u) + chunk.endOffset;
      expect(countTokens(doc.text.slice(chunk.startOffset, wordEnd))).toBeGreaterThan(max);
    }

    const next = chunks[i + 1];
    if (next && next.headingPath === chunk.headingPath && next.startOffset < chunk.endOffset) {
      expect(next.startOffset).toBeGreaterThan(chunk.startOffset);
      expect(next.endOffset).toBeGreaterThan(chunk.endOffset);
      expect(countTokens(doc.text.slice(next.startOffset, chunk.endOffset))).toBeLessThanOrEqual(
        overlap,
      );
    }
  });
  for (let i = 0; i < doc.text.length; i++) {
    if (/\S/u.test(doc.text[i]) && !covered[i]) {
      throw new Error(`character ${i} (${JSON.stringify(doc.text[i])}) is in no chunk`);
    }
  }
}

describe(chunkDocument.name, () => {
  const options = { maxTokens: 50, overlapTokens: 10, countTokens };

  it('keeps a short section whole, with its heading path and offsets', () => {
    const doc = document([
      { headingPath: [], text: 'Intro text.' },
      { headingPath: ['Guide'], text: 'Guide\n\nShort body.' },
    ]);
    expect(chunkDocument(doc, options)).toEqual([
      {
        index: 0,
        text: 'Intro text.',
        headingPath: [],
        startOffset: 0,
        endOffset: 11,
        tokenCount: 3,
      },
      {
        index: 1,
        text: 'Guide\n\nShort body.',
        headingPath: ['Guide'],
        startOffset: 13,
        endOffset: 31,
        tokenCount: countTokens('Guide\n\nShort body.'),
      },
    ]);
  });

  it('keeps a heading with its short subsections, and sections of other headings apart', () => {
    const doc = document([
      { headingPath: [], text: 'Preface' },
      { headingPath: ['A'], text: 'A\n\nalpha' },
      { headingPath: ['A', 'B'], text: 'B\n\nbeta' },
      { headingPath: ['A', 'B', 'C'], text: 'C\n\ngamma' },
      { headingPath: ['A', 'D'], text: `D\n\n${words(45)}` },
      { headingPath: ['E'], text: 'E\n\nepsilon' },
      { headingPath: ['E', 'F'], text: 'F\n\nphi', page: 3 },
    ]);
    const chunks = chunkDocument(doc, options);
    expect(chunks.map((c) => [c.headingPath, c.text, c.page])).toEqual([
      [[], 'Preface', undefined],
      [['A'], 'A\n\nalpha\n\nB\n\nbeta\n\nC\n\ngamma', undefined],
      [['A', 'D'], `D\n\n${words(45)}`, undefined],
      [['E'], 'E\n\nepsilon', undefined],
      [['E', 'F'], 'F\n\nphi', 3],
    ]);
  });

  it('ends a chunk at a paragraph break rather than mid-paragraph', () => {
    // two paragraphs of ~30 tokens each: both do not fit in 50, the first does
    const first = `${words(28)}.`;
    const second = `${words(28, 'ipsum')}.`;
    const doc = document([{ headingPath: [], text: `${first}\n\n${second}` }]);
    const chunks = chunkDocument(doc, { ...options, overlapTokens: 0 });
    expect(chunks.map((c) => c.text)).toEqual([first, second]);
  });

  it('prefers a sentence end to a word end', () => {
    const text = `${words(30)}. ${words(30, 'ipsum')}`;
    const chunks = chunkDocument(document([{ headingPath: [], text }]), {
      ...options,
      overlapTokens: 0,
    });
    expect(chunks[0].text).toBe(`${words(30)}.`);
  });

  it('repeats whole words of the end of a chunk at the start of the next, within the overlap', () => {
    const text = Array.from({ length: 120 }, (_, i) => `w${i}`).join(' ');
    const chunks = chunkDocument(document([{ headingPath: [], text }]), options);
    expect(chunks.length).toBeGreaterThan(2);
    for (let i = 1; i < chunks.length; i++) {
      const shared = text.slice(chunks[i].startOffset, chunks[i - 1].endOffset);
      expect(shared.length).toBeGreaterThan(0);
      expect(countTokens(shared)).toBeLessThanOrEqual(10);
      expect(chunks[i - 1].text.endsWith(shared)).toBe(true);
      expect(text[chunks[i].startOffset - 1]).toBe(' ');
    }
  });

  it('cuts a word only when it alone is longer than a chunk', () => {
    const blob = 'QmFzZTY0'.repeat(200);
    const doc = document([{ headingPath: [], text: `before ${blob} after` }]);
    const chunks = chunkDocument(doc, options);
    expectChunkingHolds(doc, chunks, 50, 10);
    expect(chunks[0].text).toBe('before');
    expect(chunks[chunks.length - 1].text.endsWith('after')).toBe(true);
  });

  it('refuses limits it cannot keep', () => {
    const doc = document([{ headingPath: [], text: 'x' }]);
    expect(() => chunkDocument(doc, { ...options, maxTokens: 4 })).toThrow(ChunkingError);
    expect(() => chunkDocument(doc, { ...options, overlapTokens: 25 })).toThrow(ChunkingError);
    expect(() => chunkDocument(doc, { ...options, overlapTokens: -1 })).toThrow(ChunkingError);
  });

  it('covers every character, keeps every chunk within its limit and overlap, for any text', () => {
    const word = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.constantFrom(
          'the',
          'chunk',
          'token',
          'ß',
          'naïve',
          '東京',
          '🙂',
          'end.',
          '(x)',
        ),
      },
      { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 20, maxLength: 400 }) },
    );
    const gap = fc.constantFrom(' ', ' ', ' ', '\n', '\n\n', '  \t', '. ');
    const sectionText = fc
      .array(fc.tuple(word, gap), { minLength: 1, maxLength: 150 })
      .map((parts) =>
        parts
          .map(([w, g]) => w + g)
          .join('')
          .trim(),
      )
      .filter((t) => t.length > 0);
    fc.assert(
      fc.property(
        fc.array(sectionText, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 8, max: 80 }),
        fc.double({ min: 0, max: 0.49, noNaN: true }),
        (texts, max, overlapShare) => {
          const overlap = Math.floor(max * overlapShare);
          const doc = document(
            texts.map((text, i) => ({
              headingPath: ['top', ...Array.from({ length: i % 3 }, (_, d) => `h${i}.${d}`)],
              text,
            })),
          );
          const chunks = chunkDocument(doc, {
            maxTokens: max,
            overlapTokens: overlap,
            countTokens,
          });
          expectChunkingHolds(doc, chunks, max, overlap);
        },
      ),
      { numRuns: 200 },
    );
  });
});
