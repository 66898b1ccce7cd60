import type { CountTokens } from '../../tokens/tokenizer';
import type { DocumentSection, ParsedDocument } from '../parsing/parsed-document';

export interface ChunkingOptions {
  /** Largest chunk, in tokens of `countTokens`. */
  maxTokens: number;
  /** How many tokens of the end of a chunk the next chunk of the same section repeats, at most. */
  overlapTokens: number;
  countTokens: CountTokens;
}

export interface Chunk {
  /** 0-based position in the document. */
  index: number;
  /** `document.text.slice(startOffset, endOffset)`. */
  text: string;
  headingPath: string[];
  startOffset: number;
  endOffset: number;
  tokenCount: number;
  /** PDF only: the page the chunk is on. */
  page?: number;
}

export class ChunkingError extends Error {
  override name = 'ChunkingError';
}

/** The smallest `maxTokens` accepted: enough for any single character, whatever its bytes. */
export const MIN_CHUNK_TOKENS = 8;

/** Where a chunk may end, strongest first: a blank line, a line end, a sentence, a word. */
const enum Strength {
  Word = 1,
  Sentence = 2,
  Line = 3,
  Paragraph = 4,
}

interface Breaks {
  /** Positions just after a word, where a chunk may end, ascending. */
  ends: number[];
  strength: Strength[];
  /** Positions of a word's first character, where a chunk may start, ascending. */
  starts: number[];
}

/**
 * A document cut into chunks of at most `maxTokens` tokens. A heading whose section and
 * subsections fit in one chunk together becomes one chunk under the heading's path; otherwise
 * chunks never cross a section, so a chunk's heading path is always that of its first line and
 * an ancestor of all it holds. Within a section, chunks end at the strongest boundary in the second half of the
 * largest window that fits (blank line, then line end, then sentence end, then word end), cut a
 * word only when one word alone is over the limit, and repeat up to `overlapTokens` tokens of
 * whole words from the end of the chunk before. Every non-blank character of every section is
 * in at least one chunk. Pure: the same input gives the same chunks.
 */
export function chunkDocument(document: ParsedDocument, options: ChunkingOptions): Chunk[] {
  const { maxTokens, overlapTokens } = options;
  if (!Number.isInteger(maxTokens) || maxTokens < MIN_CHUNK_TOKENS) {
    throw new ChunkingError(`maxTokens must be an integer of at least ${MIN_CHUNK_TOKENS}`);
  }
  if (!Number.isInteger(overlapTokens) || overlapTokens < 0 || overlapTokens >= maxTokens / 2) {
    throw new ChunkingError('overlapTokens must be an integer from 0 to less than maxTokens / 2');
  }
  const chunks: Chunk[] = [];
  const push = (text: string, startOffset: number, section: DocumentSection) =>
    chunks.push({
      index: chunks.length,
      text,
      headingPath: section.headingPath,
      startOffset,
      endOffset: startOffset + text.length,
      tokenCount: options.countTokens(text),
      ...(section.page !== undefined ? { page: section.page } : {}),
    });
  const sections = document.sections;
  for (let i = 0; i < sections.length; i++) {
    const section = sections[i];
    // a heading's short subsections join it in one chunk, under the heading's path
    let last = i;
    while (last + 1 < sections.length && joinsGroup(section, sections[last + 1])) {
      const end = sections[last + 1].startOffset + sections[last + 1].text.length;
      if (options.countTokens(document.text.slice(section.startOffset, end)) > maxTokens) break;
      last++;
    }
    if (last > i) {
      const end = sections[last].startOffset + sections[last].text.length;
      push(document.text.slice(section.startOffset, end), section.startOffset, section);
      i = last;
      continue;
    }
    for (const [start, end] of chunkRanges(section.text, options)) {
      push(section.text.slice(start, end), section.startOffset + start, section);
    }
  }
  return chunks;
}

/** A section below `head`'s heading (not a page, not text before any heading). */
function joinsGroup(head: DocumentSection, next: DocumentSection): boolean {
  const path = head.headingPath;
  return (
    path.length > 0 &&
    head.page === undefined &&
    next.page === undefined &&
    next.headingPath.length > path.length &&
    path.every((title, i) => next.headingPath[i] === title)
  );
}

/**
 * A token is rarely longer than a few characters; no window of `maxTokens` tokens is searched
 * beyond this many characters per token, which keeps the search local in long sections.
 */
const MAX_CHARS_PER_TOKEN = 24;

/** The [start, end) ranges of one section's chunks. */
export function chunkRanges(text: string, options: ChunkingOptions): [number, number][] {
  const { maxTokens, overlapTokens, countTokens } = options;
  const breaks = findBreaks(text);
  if (breaks.starts.length === 0) return [];
  const fits = (from: number, to: number) => countTokens(text.slice(from, to)) <= maxTokens;
  const ranges: [number, number][] = [];
  const last = breaks.ends[breaks.ends.length - 1];
  let start = breaks.starts[0];
  let previousEnd = start;

  while (previousEnd < last) {
    const horizon = start + maxTokens * MAX_CHARS_PER_TOKEN;
    let end: number;
    if (last <= horizon && fits(start, last)) {
      end = last;
    } else {
      // the farthest word end past the previous chunk that still fits
      const lo = firstAbove(breaks.ends, previousEnd);
      const hi = Math.max(lo, firstAbove(breaks.ends, horizon) - 1);
      const reach = lastFitting(breaks.ends, lo, hi, (e) => fits(start, e));
      if (reach >= lo) {
        end = strongestBreak(breaks, lo, reach, start);
      } else if (start < previousEnd) {
        // the overlap leaves no room for the next word: this chunk starts without it
        start = breaks.starts[firstAbove(breaks.starts, previousEnd - 1)];
        continue;
      } else {
        end = hardCut(text, start, maxTokens, countTokens);
      }
    }
    ranges.push([start, end]);
    previousEnd = end;
    if (end >= last) break;
    const midWord = !/\s/u.test(text[end]);
    start = midWord ? end : nextStart(text, breaks, start, end, overlapTokens, countTokens);
  }
  return ranges;
}

function findBreaks(text: string): Breaks {
  const ends: number[] = [];
  const strength: Strength[] = [];
  const starts: number[] = [];
  const word = /\S+/gu;
  let match: RegExpExecArray | null;
  while ((match = word.exec(text)) !== null) {
    const from = match.index;
    const to = from + match[0].length;
    starts.push(from);
    if (ends.length > 0)
      strength[strength.length - 1] = gapStrength(text, ends[ends.length - 1], from);
    ends.push(to);
    strength.push(Strength.Paragraph); // the section's end
  }
  return { ends, strength, starts };
}

function gapStrength(text: string, wordEnd: number, nextWord: number): Strength {
  const gap = text.slice(wordEnd, nextWord);
  if (/\n[^\S\n]*\n/.test(gap)) return Strength.Paragraph;
  if (gap.includes('\n')) return Strength.Line;
  if (/[.!?;:…。！？]["')\]»”’]*$/u.test(text.slice(Math.max(0, wordEnd - 4), wordEnd))) {
    return Strength.Sentence;
  }
  return Strength.Word;
}

/**
 * Among the word ends from `lo` to `reach` (indices), the strongest in the second half of the
 * window, the farthest of equals; the window's own end when its second half has none stronger.
 */
function strongestBreak(breaks: Breaks, lo: number, reach: number, start: number): number {
  const half = start + (breaks.ends[reach] - start) / 2;
  let best = reach;
  for (let i = reach - 1; i >= lo && breaks.ends[i] >= half; i--) {
    if (breaks.strength[i] > breaks.strength[best]) best = i;
  }
  return breaks.ends[best];
}

/** Where the chunk after [start, end) begins: whole words of at most `overlap` tokens back. */
function nextStart(
  text: string,
  breaks: Breaks,
  start: number,
  end: number,
  overlap: number,
  countTokens: CountTokens,
): number {
  const after = firstAbove(breaks.starts, end - 1);
  if (overlap > 0) {
    const lo = firstAbove(breaks.starts, start);
    // word starts inside (start, end), earliest first: the earliest whose tail fits
    let low = lo;
    let high = after - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (countTokens(text.slice(breaks.starts[mid], end)) <= overlap) {
        found = mid;
        high = mid - 1;
      } else low = mid + 1;
    }
    if (found >= 0) return breaks.starts[found];
  }
  return breaks.starts[after];
}

/** A cut inside a word too long for a chunk: the longest prefix of whole code points that fits. */
function hardCut(text: string, start: number, maxTokens: number, countTokens: CountTokens): number {
  const wordEnd = /\S*/uy;
  wordEnd.lastIndex = start;
  wordEnd.exec(text);
  let low = start + 1;
  let high = wordEnd.lastIndex;
  let best = start + codePointLength(text, start);
  while (low <= high) {
    const mid = (low + high) >> 1;
    const cut = isLowSurrogate(text.charCodeAt(mid)) ? mid - 1 : mid;
    if (cut > start && countTokens(text.slice(start, cut)) <= maxTokens) {
      best = Math.max(best, cut);
      low = mid + 1;
    } else high = mid - 1;
  }
  return best;
}

const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;
const codePointLength = (text: string, at: number) =>
  (text.codePointAt(at) ?? 0) > 0xffff ? 2 : 1;

/** The last index in [lo, hi] whose value passes `ok`, by bisection (`ok` holds on a prefix). */
function lastFitting(
  values: number[],
  lo: number,
  hi: number,
  ok: (value: number) => boolean,
): number {
  let low = lo;
  let high = hi;
  let found = lo - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (ok(values[mid])) {
      found = mid;
      low = mid + 1;
    } else high = mid - 1;
  }
  return found;
}

function firstAbove(values: number[], value: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (values[mid] > value) high = mid;
    else low = mid + 1;
  }
  return low;
}
