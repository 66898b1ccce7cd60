export * from './embedding-provider';
export { createEmbeddingProvider, KNOWN_DIMENSIONS } from './create-embedding-provider';
export { embeddingsConfig, type EmbeddingsConfig } from './embeddings.config';
export {
  OpenAiCompatibleEmbeddingProvider,
  OPENAI_COMPATIBLE_DEFAULTS,
  type OpenAiCompatibleOptions,
} from './openai-compatible.embedding-provider';
export { UniversalSentenceEncoderProvider } from './universal-sentence-encoder.embedding-provider';
