/** Turns texts into vectors; every vector has `dimension` numbers and unit length. */
export interface EmbeddingProvider {
  /** Recorded with a collection, so a change of model means re-embedding, never a silent mix. */
  readonly model: string;
  readonly dimension: number;
  /** One vector per text, in the order of `texts`. */
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
}

export const EMBEDDING_ERROR_CODES = [
  /** The provider refused the input (400, 413, 422) or a text is over the input limit. */
  'invalid_input',
  /** The key was refused (401, 403). */
  'unauthorized',
  /** The model is unknown to the provider (404). */
  'model_not_found',
  /** Still rate limited (429) after the last retry. */
  'rate_limited',
  /** Still failing (5xx, connection errors) after the last retry. */
  'unavailable',
  /** No answer within the timeout, after the last retry. */
  'timeout',
  /** The caller's signal fired. */
  'aborted',
  /** An answer that is not what the protocol promises (wrong count, wrong dimension). */
  'invalid_response',
] as const;
export type EmbeddingErrorCode = (typeof EMBEDDING_ERROR_CODES)[number];

export class EmbeddingError extends Error {
  override name = 'EmbeddingError';

  constructor(
    readonly code: EmbeddingErrorCode,
    message: string,
    /** The HTTP status of the last answer, when there was one. */
    readonly status?: number,
  ) {
    super(message);
  }

  /** Worth another try later (a job retry): the provider was busy or away. */
  get retryable(): boolean {
    return this.code === 'rate_limited' || this.code === 'unavailable' || this.code === 'timeout';
  }
}

/** The vector scaled to length 1 (a zero vector stays zero: it has no direction). */
export function normalize(vector: ArrayLike<number>): number[] {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i] * vector[i];
  const norm = Math.sqrt(sum);
  const out = new Array<number>(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = norm > 0 ? vector[i] / norm : 0;
  return out;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new EmbeddingError('aborted', 'the embedding was cancelled');
}
