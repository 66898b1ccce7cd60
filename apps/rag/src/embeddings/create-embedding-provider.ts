import { ConfigError } from '@lattice/config';
import type { EmbeddingProvider } from './embedding-provider';
import type { EmbeddingsConfig } from './embeddings.config';
import { OpenAiCompatibleEmbeddingProvider } from './openai-compatible.embedding-provider';
import { UniversalSentenceEncoderProvider } from './universal-sentence-encoder.embedding-provider';

/** Vector sizes of the models whose size need not be configured. */
export const KNOWN_DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

/**
 * The provider the configuration asks for: an OpenAI-compatible server when
 * `LATTICE_EMBEDDINGS_URL` is set, else the offline model. A missing model or dimension stops
 * start-up with a message that names the variable.
 */
export function createEmbeddingProvider(
  config: Partial<EmbeddingsConfig>,
  options: { fetch?: typeof fetch } = {},
): EmbeddingProvider {
  const url = config.LATTICE_EMBEDDINGS_URL;
  if (!url) {
    const stray = (['LATTICE_EMBEDDINGS_MODEL', 'LATTICE_EMBEDDINGS_API_KEY'] as const).filter(
      (name) => config[name] !== undefined,
    );
    if (stray.length > 0) {
      throw new ConfigError(
        stray.map((variable) => ({
          variable,
          message:
            'is set but LATTICE_EMBEDDINGS_URL is not: set both, or neither for the offline model',
        })),
      );
    }
    return new UniversalSentenceEncoderProvider();
  }
  const model = config.LATTICE_EMBEDDINGS_MODEL;
  if (!model) {
    throw new ConfigError([
      { variable: 'LATTICE_EMBEDDINGS_MODEL', message: 'is required with LATTICE_EMBEDDINGS_URL' },
    ]);
  }
  const dimension = config.LATTICE_EMBEDDINGS_DIMENSION ?? KNOWN_DIMENSIONS[model];
  if (!dimension) {
    throw new ConfigError([
      {
        variable: 'LATTICE_EMBEDDINGS_DIMENSION',
        message: `is required for the model "${model}" (its vector size is not known here)`,
      },
    ]);
  }
  return new OpenAiCompatibleEmbeddingProvider({
    baseUrl: url,
    model,
    dimension,
    apiKey: config.LATTICE_EMBEDDINGS_API_KEY,
    batch: {
      ...(config.LATTICE_EMBEDDINGS_BATCH_SIZE
        ? { maxInputs: config.LATTICE_EMBEDDINGS_BATCH_SIZE }
        : {}),
      ...(config.LATTICE_EMBEDDINGS_BATCH_TOKENS
        ? { maxTokens: config.LATTICE_EMBEDDINGS_BATCH_TOKENS }
        : {}),
    },
    ...(config.LATTICE_EMBEDDINGS_TIMEOUT_MS
      ? { timeoutMs: config.LATTICE_EMBEDDINGS_TIMEOUT_MS }
      : {}),
    ...(config.LATTICE_EMBEDDINGS_MAX_RETRIES !== undefined
      ? { retry: { maxRetries: config.LATTICE_EMBEDDINGS_MAX_RETRIES } }
      : {}),
    rateLimit: {
      requests: config.LATTICE_EMBEDDINGS_REQUESTS_PER_MINUTE,
      tokens: config.LATTICE_EMBEDDINGS_TOKENS_PER_MINUTE,
      windowSeconds: 60,
    },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
