export { chunkDocument, ChunkingError, MIN_CHUNK_TOKENS } from './chunk-document';
export type { Chunk, ChunkingOptions } from './chunk-document';
