import { z } from 'zod';
import { commonConfig, port, variable } from '@lattice/config';
import type { Logger } from '@lattice/logging';
import {
  EXIT_CONFIG,
  runService,
  type Closable,
  type ServiceDefinition,
  type ServiceHost,
} from './run-service';

const spec = {
  LOG_LEVEL: commonConfig.LOG_LEVEL,
  DEMO_HTTP_PORT: variable(port(8099), 'Port of the demo service.'),
  DEMO_SECRET: variable(z.string().min(8), 'A secret.', { sensitive: true }),
};

/** A process that records what the runtime asks of it instead of doing it. */
class RecordingHost implements ServiceHost {
  readonly errors: string[] = [];
  readonly exits: number[] = [];
  readonly stoppable: Closable[] = [];

  constructor(
    readonly env: NodeJS.ProcessEnv,
    readonly argv: readonly string[] = ['node', 'main.js'],
  ) {}

  printError(message: string): void {
    this.errors.push(message);
  }

  exit(code: number): void {
    this.exits.push(code);
  }

  stopOnSignals(service: Closable): void {
    this.stoppable.push(service);
  }
}

const goodEnv = { LOG_LEVEL: 'silent', DEMO_SECRET: 'long-enough' };
const service = { close: () => Promise.resolve() };

function demo(create: ServiceDefinition<typeof spec>['create'] = async () => service) {
  const calls: { config: unknown; logger: Logger; migrate: boolean }[] = [];
  const definition: ServiceDefinition<typeof spec> = {
    name: 'demo',
    config: spec,
    create: (config, logger, start) => {
      calls.push({ config, logger, migrate: start.migrate });
      return create(config, logger, start);
    },
  };
  return { definition, calls };
}

describe(runService.name, () => {
  it('exits 78 naming the variable that is wrong, before creating anything', async () => {
    const { definition, calls } = demo();
    const host = new RecordingHost({ ...goodEnv, DEMO_HTTP_PORT: 'eighty' });
    await runService(definition, host);
    expect(host.exits).toEqual([EXIT_CONFIG]);
    expect(EXIT_CONFIG).toBe(78);
    expect(host.errors).toHaveLength(1);
    expect(host.errors[0]).toMatch(/^demo: invalid configuration/);
    expect(host.errors[0]).toContain('DEMO_HTTP_PORT');
    expect(host.errors[0]).toContain('"eighty"');
    expect(calls).toEqual([]);
  });

  it('names a missing sensitive variable without echoing what it was given', async () => {
    const { definition } = demo();
    const host = new RecordingHost({ LOG_LEVEL: 'silent', DEMO_SECRET: 'short' });
    await runService(definition, host);
    expect(host.exits).toEqual([78]);
    expect(host.errors[0]).toContain('DEMO_SECRET');
    expect(host.errors[0]).not.toContain('short');
  });

  it('creates the service with the validated configuration and stops it on signals', async () => {
    const { definition, calls } = demo();
    const host = new RecordingHost({ ...goodEnv, DEMO_HTTP_PORT: '9001' });
    await runService(definition, host);
    expect(host.exits).toEqual([]);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.config).toMatchObject({ DEMO_HTTP_PORT: 9001, DEMO_SECRET: 'long-enough' });
    expect(calls[0]!.migrate).toBe(false);
    expect(host.stoppable).toEqual([service]);
  });

  it('migrates when --migrate is on the command line', async () => {
    const { definition, calls } = demo();
    await runService(definition, new RecordingHost(goodEnv, ['node', 'main.js', '--migrate']));
    expect(calls[0]!.migrate).toBe(true);
  });

  it('exits 1 when the service fails to start, and waits for no signal', async () => {
    const { definition } = demo(() => Promise.reject(new Error('database unreachable')));
    const host = new RecordingHost(goodEnv);
    await runService(definition, host);
    expect(host.exits).toEqual([1]);
    expect(host.stoppable).toEqual([]);
  });

  describe('--ensure-context-keys', () => {
    const ensure = ['node', 'main.js', '--ensure-context-keys'];

    it('reads only what names the Secret, and names a missing variable', async () => {
      const { definition, calls } = demo();
      const host = new RecordingHost(
        { LOG_LEVEL: 'silent', POD_NAMESPACE: 'lattice', LATTICE_CONTEXT_KEYS_SECRET: 'keys' },
        ensure,
      );
      await runService(definition, host);
      expect(host.exits).toEqual([EXIT_CONFIG]);
      expect(host.errors[0]).toContain('LATTICE_CONTEXT_KEY_SERVICES');
      expect(host.errors[0]).not.toContain('DEMO_SECRET');
      expect(calls).toEqual([]);
    });

    it('exits 1, starting nothing, outside a cluster', async () => {
      const { definition, calls } = demo();
      const host = new RecordingHost(
        {
          LOG_LEVEL: 'silent',
          POD_NAMESPACE: 'lattice',
          LATTICE_CONTEXT_KEYS_SECRET: 'keys',
          LATTICE_CONTEXT_KEY_SERVICES: 'gateway,tenants',
        },
        ensure,
      );
      await runService(definition, host);
      expect(host.exits).toEqual([1]);
      expect(host.errors).toEqual([
        'demo: --ensure-context-keys runs in a Kubernetes pod (no KUBERNETES_SERVICE_HOST)',
      ]);
      expect(calls).toEqual([]);
      expect(host.stoppable).toEqual([]);
    });
  });

  describe('--migrate-only', () => {
    const migrateOnly = ['node', 'main.js', '--migrate-only'];

    it('reads only the database variables, and names a missing DATABASE_URL', async () => {
      const { definition, calls } = demo();
      // DEMO_SECRET is missing, and that is no concern of a migration
      const host = new RecordingHost({ LOG_LEVEL: 'silent' }, migrateOnly);
      await runService(definition, host);
      expect(host.exits).toEqual([EXIT_CONFIG]);
      expect(host.errors[0]).toContain('DATABASE_URL');
      expect(host.errors[0]).not.toContain('DEMO_SECRET');
      expect(calls).toEqual([]);
    });

    it('refuses, starting nothing, for a service that defines no database', async () => {
      const { definition, calls } = demo();
      const host = new RecordingHost(
        { LOG_LEVEL: 'silent', DATABASE_URL: 'postgres://owner@db/lattice' },
        migrateOnly,
      );
      await runService(definition, host);
      expect(host.exits).toEqual([1]);
      expect(host.errors).toEqual([
        'demo: --migrate-only, but the service defines no database to migrate',
      ]);
      expect(calls).toEqual([]);
      expect(host.stoppable).toEqual([]);
    });

    it('exits 1, starting nothing, when the database cannot be migrated', async () => {
      const { definition, calls } = demo();
      const database = jest.fn((config: { DATABASE_URL: string }) => ({
        adminUrl: config.DATABASE_URL,
        schema: 'demo',
        entities: [],
        migrations: [],
      }));
      const host = new RecordingHost(
        // nothing listens on port 1
        { LOG_LEVEL: 'silent', DATABASE_URL: 'postgres://owner@127.0.0.1:1/lattice' },
        migrateOnly,
      );
      await runService({ ...definition, database }, host);
      expect(database).toHaveBeenCalledWith(
        expect.objectContaining({ DATABASE_URL: 'postgres://owner@127.0.0.1:1/lattice' }),
      );
      expect(host.exits).toEqual([1]);
      expect(calls).toEqual([]);
    });
  });
});
