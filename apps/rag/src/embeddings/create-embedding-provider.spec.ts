import { ConfigError, loadConfig } from '@lattice/config';
import { OpenAiEmbeddingsStandIn } from '../../test/openai-embeddings-stand-in';
import { createEmbeddingProvider } from './create-embedding-provider';
import { normalize } from './embedding-provider';
import { embeddingsConfig } from './embeddings.config';
import { OpenAiCompatibleEmbeddingProvider } from './openai-compatible.embedding-provider';
import { UniversalSentenceEncoderProvider } from './universal-sentence-encoder.embedding-provider';

const fromEnv = (env: Record<string, string>) =>
  createEmbeddingProvider(loadConfig(embeddingsConfig, env));

function configProblem(build: () => unknown): string[] {
  try {
    build();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.variable);
    throw error;
  }
  throw new Error('the configuration was accepted');
}

describe(createEmbeddingProvider.name, () => {
  it('chooses the offline model when no server is configured', () => {
    const provider = fromEnv({});
    expect(provider).toBeInstanceOf(UniversalSentenceEncoderProvider);
    expect([provider.model, provider.dimension]).toEqual(['universal-sentence-encoder-lite', 512]);
  });

  it('chooses the server when its URL is set, knowing the OpenAI models sizes', () => {
    const provider = fromEnv({
      LATTICE_EMBEDDINGS_URL: 'https://api.example.test',
      LATTICE_EMBEDDINGS_MODEL: 'text-embedding-3-small',
      LATTICE_EMBEDDINGS_API_KEY: 'sk-x',
    });
    expect(provider).toBeInstanceOf(OpenAiCompatibleEmbeddingProvider);
    expect([provider.model, provider.dimension]).toEqual(['text-embedding-3-small', 1536]);
  });

  it('names the variable that is missing or stray', () => {
    expect(configProblem(() => fromEnv({ LATTICE_EMBEDDINGS_URL: 'http://tei:8080' }))).toEqual([
      'LATTICE_EMBEDDINGS_MODEL',
    ]);
    expect(
      configProblem(() =>
        fromEnv({ LATTICE_EMBEDDINGS_URL: 'http://tei:8080', LATTICE_EMBEDDINGS_MODEL: 'bge-m3' }),
      ),
    ).toEqual(['LATTICE_EMBEDDINGS_DIMENSION']);
    expect(configProblem(() => fromEnv({ LATTICE_EMBEDDINGS_MODEL: 'bge-m3' }))).toEqual([
      'LATTICE_EMBEDDINGS_MODEL',
    ]);
    expect(configProblem(() => fromEnv({ LATTICE_EMBEDDINGS_URL: 'ftp://x' }))).toEqual([
      'LATTICE_EMBEDDINGS_URL',
    ]);
  });

  it('keeps the key out of the message of a bad configuration', () => {
    const env = { LATTICE_EMBEDDINGS_API_KEY: '', LATTICE_EMBEDDINGS_TIMEOUT_MS: 'soon' };
    expect(() => loadConfig(embeddingsConfig, env)).toThrow(/LATTICE_EMBEDDINGS_TIMEOUT_MS/);
  });

  it('builds a provider that works against a server speaking the protocol', async () => {
    const server = new OpenAiEmbeddingsStandIn({
      dimension: 16,
      apiKey: 'sk-local',
      model: 'bge-small',
    });
    const url = await server.start();
    try {
      const provider = fromEnv({
        LATTICE_EMBEDDINGS_URL: url,
        LATTICE_EMBEDDINGS_MODEL: 'bge-small',
        LATTICE_EMBEDDINGS_API_KEY: 'sk-local',
        LATTICE_EMBEDDINGS_DIMENSION: '16',
        LATTICE_EMBEDDINGS_BATCH_SIZE: '1',
      });
      expect(await provider.embed(['a', 'b'])).toEqual([
        normalize(server.vectorOf('a')),
        normalize(server.vectorOf('b')),
      ]);
      expect(server.requests).toHaveLength(2);
    } finally {
      await server.stop();
    }
  });
});
