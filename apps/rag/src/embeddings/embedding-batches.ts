import type { CountTokens } from '../tokens/tokenizer';
import { EmbeddingError } from './embedding-provider';

export interface BatchLimits {
  /** Most texts in one request. */
  maxInputs: number;
  /** Most tokens in one request, all texts together. */
  maxTokens: number;
  /** Most tokens in one text; a longer one is refused before anything is sent. */
  maxInputTokens: number;
}

export interface Batch {
  /** Positions of the batch's texts in the caller's list. */
  indices: number[];
  texts: string[];
  tokens: number;
}

/** Texts in order, cut into consecutive batches within the count and token limits. */
export function planBatches(
  texts: string[],
  limits: BatchLimits,
  countTokens: CountTokens,
): Batch[] {
  const batches: Batch[] = [];
  let current: Batch = { indices: [], texts: [], tokens: 0 };
  texts.forEach((text, index) => {
    const tokens = countTokens(text);
    if (tokens > limits.maxInputTokens || tokens > limits.maxTokens) {
      throw new EmbeddingError(
        'invalid_input',
        `text ${index} has ${tokens} tokens; at most ${Math.min(limits.maxInputTokens, limits.maxTokens)} are accepted`,
      );
    }
    if (
      current.texts.length > 0 &&
      (current.texts.length >= limits.maxInputs || current.tokens + tokens > limits.maxTokens)
    ) {
      batches.push(current);
      current = { indices: [], texts: [], tokens: 0 };
    }
    current.indices.push(index);
    current.texts.push(text);
    current.tokens += tokens;
  });
  if (current.texts.length > 0) batches.push(current);
  return batches;
}
