import { Client } from 'pg';
import type { Logger } from '@lattice/logging';
import { runService, type Closable, type ServiceHost } from '@lattice/service-runtime';
import { createTestDatabase, testPostgresUrl } from '@lattice/testing';
import { tenantsService } from './tenants.app';

jest.setTimeout(60_000);

/** The process as a chart's migration Job runs it: `main.js --migrate-only`. */
class JobHost implements ServiceHost {
  readonly argv = ['node', 'main.js', '--migrate-only'];
  readonly exits: number[] = [];
  readonly errors: string[] = [];
  readonly started: Closable[] = [];
  constructor(readonly env: NodeJS.ProcessEnv) {}
  printError(message: string): void {
    this.errors.push(message);
  }
  exit(code: number): void {
    this.exits.push(code);
  }
  stopOnSignals(service: Closable, _logger: Logger): void {
    this.started.push(service);
  }
}

describe('tenants --migrate-only', () => {
  let database: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    database = await createTestDatabase(testPostgresUrl());
  });
  afterAll(() => database.drop());

  async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  }

  it('migrates the schema, creates the runtime role, and exits 0 without starting', async () => {
    // only the database variables: no NATS_URL, no LATTICE_INTERNAL_SECRET
    const env = {
      LOG_LEVEL: 'silent',
      DATABASE_URL: database.url,
      DATABASE_APP_PASSWORD: 'rôle-pw',
    };
    const host = new JobHost(env);
    await runService(tenantsService, host);
    expect(host.errors).toEqual([]);
    expect(host.exits).toEqual([0]);
    expect(host.started).toEqual([]);
    const ran = await query(database.url, 'SELECT name FROM tenants.migrations ORDER BY id');
    expect(ran.length).toBeGreaterThan(0);

    // the service's runtime role exists and may log in (the test server trusts local connections,
    // so the password itself is not put to the test here)
    const runtime = new URL(database.url);
    runtime.username = 'lattice_tenants';
    runtime.password = encodeURIComponent('rôle-pw');
    expect(await query(runtime.toString(), 'SELECT current_user AS who')).toEqual([
      { who: 'lattice_tenants' },
    ]);

    // a second run (the next upgrade's hook) finds nothing to do
    const again = new JobHost(env);
    await runService(tenantsService, again);
    expect(again.exits).toEqual([0]);
    expect(await query(database.url, 'SELECT name FROM tenants.migrations ORDER BY id')).toEqual(
      ran,
    );
  });
});
