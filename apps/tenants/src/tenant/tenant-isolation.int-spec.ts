import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { TenantsCreate, type TenantView, type UsageRecorded } from '@lattice/contracts';
import { TenantScope, runtimeRole } from '@lattice/database';
import { sqlFailure } from '@lattice/testing';
import {
  platformAdmin,
  startTenantsTestBed,
  type TenantsTestBed,
} from '../../test/tenants.test-bed';
import { TenantOutbox } from '../events/tenant-outbox';
import { UsageService } from '../usage/usage.service';

const TENANT_OWNED = ['usage_events', 'usage_meters'] as const;

/**
 * Row-level security as the service's runtime role sees it. Every query here deliberately
 * leaves out `WHERE tenant_id = ...`: the database, not the query, keeps tenants apart.
 */
describe(TenantScope.name, () => {
  let bed: TenantsTestBed;
  let scope: TenantScope;
  let a: TenantView;
  let b: TenantView;

  const usage = (
    tenantId: string,
    resource: UsageRecorded['resource'],
    amount: number,
  ): UsageRecorded => ({
    messageId: randomUUID(),
    tenantId,
    resource,
    amount,
    occurredAt: new Date().toISOString(),
    source: 'isolation-test',
  });

  const create = () =>
    bed.rpc.request(
      TenantsCreate,
      { slug: `iso-${randomUUID().slice(0, 8)}`, name: 'Isolated' },
      platformAdmin(),
    );

  beforeAll(async () => {
    bed = await startTenantsTestBed();
    scope = new TenantScope(bed.runtimeDb);
    a = await create();
    b = await create();
    const recorder = bed.app.get(UsageService);
    for (const report of [
      usage(a.id, 'tokens', 100),
      usage(a.id, 'gpuSeconds', 7),
      usage(b.id, 'tokens', 200),
      usage(b.id, 'storageBytes', 4096),
      usage(b.id, 'gpuSeconds', 3),
    ]) {
      expect(await recorder.record(report)).toBe(true);
    }
  });
  afterAll(() => bed?.close());

  it('starts from usage rows of both tenants, as the owner sees them', async () => {
    // the premise of every test below: there is another tenant's data to leak
    const rows: { tenant_id: string; n: number }[] = await bed.ownerDb.query(
      `SELECT tenant_id, count(*)::int AS n FROM tenants.usage_events GROUP BY tenant_id`,
    );
    expect(Object.fromEntries(rows.map((r) => [r.tenant_id, r.n]))).toEqual({
      [a.id]: 2,
      [b.id]: 3,
    });
  });

  it('shows a tenant only its own usage, though the query names no tenant', async () => {
    for (const [tenant, events] of [
      [a, 2],
      [b, 3],
    ] as const) {
      const { meters, rows } = await scope.run(tenant.id, async (em) => ({
        meters: (await em.query('SELECT * FROM tenants.usage_meters')) as { tenant_id: string }[],
        rows: (await em.query('SELECT * FROM tenants.usage_events')) as { tenant_id: string }[],
      }));
      expect(meters.length).toBe(events);
      expect(rows.length).toBe(events);
      expect(new Set([...meters, ...rows].map((r) => r.tenant_id))).toEqual(new Set([tenant.id]));
    }
    // aggregates are filtered too: A's sum of tokens is A's alone
    const [{ sum }] = await scope.run(a.id, (em) =>
      em.query(`SELECT sum(used)::int AS sum FROM tenants.usage_meters WHERE resource = 'tokens'`),
    );
    expect(sum).toBe(100);
  });

  it('shows a tenant only its own row of the tenant directory', async () => {
    const rows: { id: string }[] = await scope.run(a.id, (em) =>
      em.query('SELECT id FROM tenants.tenants'),
    );
    expect(rows.map((r) => r.id)).toEqual([a.id]);
    // and looking B up by its id from inside A finds nothing
    const found = await scope.run(a.id, (em) =>
      em.query('SELECT id FROM tenants.tenants WHERE id = $1', [b.id]),
    );
    expect(found).toEqual([]);
  });

  it('shows nothing, and raises no error, where no tenant is set', async () => {
    // the relay empties the outbox within a second: held still, with rows of both tenants in
    // it, an empty answer means the policy hid them
    const outbox = bed.app.get(TenantOutbox);
    await outbox.onApplicationShutdown();
    const seeded = [randomUUID(), randomUUID()];
    try {
      for (const [i, tenant] of [a, b].entries()) {
        await bed.ownerDb.query(
          `INSERT INTO tenants.outbox (tenant_id, event_id, subject_suffix, payload)
           VALUES ($1, $2, 'updated', '{}')`,
          [tenant.id, seeded[i]],
        );
      }
      const held: { tenant_id: string }[] = await bed.ownerDb.query(
        `SELECT tenant_id FROM tenants.outbox WHERE event_id = ANY($1) ORDER BY tenant_id`,
        [seeded],
      );
      expect(held.map((r) => r.tenant_id)).toEqual([a.id, b.id].sort());
      await expectNothingUnscoped();
    } finally {
      await bed.ownerDb.query(`DELETE FROM tenants.outbox WHERE event_id = ANY($1)`, [seeded]);
      outbox.onApplicationBootstrap();
    }
  });

  /** Every tenant-owned table, read as the runtime role with no tenant set. */
  async function expectNothingUnscoped() {
    for (const table of [...TENANT_OWNED, 'tenants', 'outbox']) {
      await expect(bed.runtimeDb.query(`SELECT * FROM tenants.${table}`)).resolves.toEqual([]);
    }
    // an explicit transaction without a scope is no different
    const inTransaction = await bed.runtimeDb.transaction((em) =>
      em.query('SELECT * FROM tenants.usage_meters'),
    );
    expect(inTransaction).toEqual([]);
  }

  it('forgets the tenant when the transaction ends, on the very same pooled connection', async () => {
    // one connection, so the next query is certain to reuse the one that was scoped
    const options = bed.runtimeDb.options as PostgresConnectionOptions;
    const single = await new DataSource({ ...options, poolSize: 1 }).initialize();
    try {
      const scoped = await new TenantScope(single).run(a.id, async (em) => ({
        pid: (await em.query('SELECT pg_backend_pid() AS pid'))[0].pid as number,
        rows: ((await em.query('SELECT * FROM tenants.usage_meters')) as unknown[]).length,
      }));
      expect(scoped.rows).toBe(2);

      const [after] = await single.query(
        `SELECT pg_backend_pid() AS pid, current_setting('app.tenant_id', true) AS tenant`,
      );
      expect(after.pid).toBe(scoped.pid);
      // set_config(..., true) is undone at commit, leaving '' behind rather than NULL
      expect(after.tenant).toBe('');
      await expect(single.query('SELECT * FROM tenants.usage_meters')).resolves.toEqual([]);
      await expect(single.query('SELECT * FROM tenants.usage_events')).resolves.toEqual([]);
      await expect(single.query('SELECT * FROM tenants.tenants')).resolves.toEqual([]);
    } finally {
      await single.destroy();
    }
  });

  it('refuses to write a row for another tenant, and writes nothing of the attempt', async () => {
    const insert = (tenantId: string) =>
      scope.run(a.id, (em) =>
        em.query(
          `INSERT INTO tenants.usage_events (tenant_id, message_id, resource, amount, period, source, occurred_at)
           VALUES ($1, $2, 'tokens', 5, '2030-01', 'isolation-test', now())
           RETURNING message_id`,
          [tenantId, randomUUID()],
        ),
      );
    const error = await sqlFailure(insert(b.id));
    expect(error.code).toBe('42501');
    expect(error.message).toMatch(/row-level security/);

    // moving one of A's rows over to B is refused the same way
    const moved = await sqlFailure(
      scope.run(a.id, (em) => em.query('UPDATE tenants.usage_meters SET tenant_id = $1', [b.id])),
    );
    expect(moved.code).toBe('42501');

    // and B's rows cannot be changed or removed from A's scope: they are not there to touch
    const [, deleted] = await scope.run(a.id, (em) =>
      em.query('DELETE FROM tenants.usage_events WHERE tenant_id = $1', [b.id]),
    );
    expect(deleted).toBe(0);

    const [{ n }] = await bed.ownerDb.query(
      'SELECT count(*)::int AS n FROM tenants.usage_events WHERE tenant_id = $1',
      [b.id],
    );
    expect(n).toBe(3);
    // a row of A's own goes in as usual: the refusal above was about the tenant, not the table
    const [own] = await insert(a.id);
    await scope.run(a.id, (em) =>
      em.query('DELETE FROM tenants.usage_events WHERE message_id = $1', [own.message_id]),
    );
  });

  it('refuses TRUNCATE to the runtime role, which row-level security would not stop', async () => {
    for (const table of [...TENANT_OWNED, 'tenants']) {
      const error = await sqlFailure(
        scope.run(a.id, (em) => em.query(`TRUNCATE tenants.${table} CASCADE`)),
      );
      expect(error.code).toBe('42501');
      expect(error.message).toMatch(/permission denied/);
    }
    const [{ n }] = await bed.ownerDb.query('SELECT count(*)::int AS n FROM tenants.usage_meters');
    expect(n).toBeGreaterThanOrEqual(5);
  });

  it('connects as a role that owns no table and cannot bypass row-level security', async () => {
    const [me] = await bed.runtimeDb.query(
      `SELECT current_user AS name, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`,
    );
    expect(me).toEqual({ name: runtimeRole('tenants'), rolsuper: false, rolbypassrls: false });

    const tables: {
      tablename: string;
      tableowner: string;
      rowsecurity: boolean;
      forced: boolean;
    }[] = await bed.ownerDb.query(
      `SELECT t.tablename, t.tableowner, t.rowsecurity, c.relforcerowsecurity AS forced
           FROM pg_tables t JOIN pg_class c ON c.oid = format('%I.%I', t.schemaname, t.tablename)::regclass
          WHERE t.schemaname = 'tenants' AND t.tablename <> 'migrations'`,
    );
    expect(tables.map((t) => t.tablename).sort()).toEqual([
      'outbox',
      'tenants',
      'usage_events',
      'usage_meters',
    ]);
    for (const table of tables) {
      expect(table.tableowner).not.toBe(me.name);
      expect({
        table: table.tablename,
        rowsecurity: table.rowsecurity,
        forced: table.forced,
      }).toEqual({
        table: table.tablename,
        rowsecurity: true,
        forced: true,
      });
    }
  });

  it("lets platform scope see every tenant, but not one row of any tenant's usage", async () => {
    const { tenants, meters, events } = await scope.runAsPlatform(async (em) => ({
      tenants: ((await em.query('SELECT id FROM tenants.tenants')) as { id: string }[]).map(
        (r) => r.id,
      ),
      meters: await em.query('SELECT * FROM tenants.usage_meters'),
      events: await em.query('SELECT * FROM tenants.usage_events'),
    }));
    expect(tenants).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(meters).toEqual([]);
    expect(events).toEqual([]);

    // nor can platform scope write usage on a tenant's behalf
    const error = await sqlFailure(
      scope.runAsPlatform((em) =>
        em.query(
          `INSERT INTO tenants.usage_meters (tenant_id, resource, period, used) VALUES ($1, 'tokens', '2030-01', 1)`,
          [a.id],
        ),
      ),
    );
    expect(error.code).toBe('42501');
  });
});
