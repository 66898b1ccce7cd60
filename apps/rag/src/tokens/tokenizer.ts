/**
 * Token counts for chunking, context budgets and embedding batches.
 *
 * The encoding is `cl100k_base`: it is exact for the OpenAI embedding models
 * (text-embedding-3-small/-large, ada-002) whose per-input and per-request token limits the
 * embedding provider must respect, and a close estimate (within a few per cent on English
 * prose) for the open models served by vLLM or TGI, whose own tokenizers are not shipped here.
 * gpt-tokenizer is pure JavaScript with its ranks inside the package: nothing is downloaded.
 */
import {
  decode as decodeTokens,
  encode as encodeText,
} from 'gpt-tokenizer/cjs/encoding/cl100k_base';

export const TOKEN_ENCODING = 'cl100k_base';

// Text from documents and questions may contain "<|endoftext|>" and the like; it is text, never a
// control token, so no special token is recognised (the library's default would throw on it).
const AS_PLAIN_TEXT = { allowedSpecial: new Set<string>(), disallowedSpecial: new Set<string>() };

export function encode(text: string): number[] {
  return encodeText(text, AS_PLAIN_TEXT);
}

export function decode(tokens: Iterable<number>): string {
  return decodeTokens(tokens);
}

export function countTokens(text: string): number {
  return text.length === 0 ? 0 : encode(text).length;
}

/** A function that counts tokens, for the modules that take one (budgets, chunking). */
export type CountTokens = (text: string) => number;

/** The text cut to at most `maxTokens` tokens, at a token boundary (context assembly's `truncate`). */
export function truncateToTokens(text: string, maxTokens: number): string {
  if (maxTokens <= 0) return '';
  const tokens = encode(text);
  if (tokens.length <= maxTokens) return text;
  // a cut inside a multi-byte character decodes to U+FFFD: drop it
  return decode(tokens.slice(0, maxTokens)).replace(/\uFFFD+$/u, '');
}
