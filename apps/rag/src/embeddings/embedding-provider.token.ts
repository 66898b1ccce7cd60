/** The service's embedding model (an `EmbeddingProvider`), made from its configuration. */
export const EMBEDDING_PROVIDER = Symbol('EMBEDDING_PROVIDER');
