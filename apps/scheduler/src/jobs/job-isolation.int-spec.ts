import { TenantScope } from '@lattice/database';
import {
  SchedulerJobsStart,
  SchedulerJobsLease,
  SchedulerJobsSubmit,
  SchedulerWorkersRegister,
  type QueueView,
} from '@lattice/contracts';
import { sqlFailure } from '@lattice/testing';
import {
  startSchedulerTestBed,
  tenantMember,
  worker,
  type SchedulerTestBed,
} from '../../test/scheduler.test-bed';

// each file starts the tenants (or scheduler) service from the build, and a busy machine is slow
jest.setTimeout(60_000);

const TENANT_OWNED = ['jobs', 'job_transitions', 'outbox'] as const;

/**
 * Row-level security on the scheduler's tables as its runtime role sees it. The queries here
 * deliberately leave out `WHERE tenant_id = ...`: the database keeps tenants apart, and only
 * the dispatcher's scope reads across them.
 */
describe('scheduler row-level security', () => {
  let bed: SchedulerTestBed;
  let scope: TenantScope;
  let a: string;
  let b: string;
  let queue: QueueView;

  beforeAll(async () => {
    bed = await startSchedulerTestBed({ env: { SCHEDULER_LEASE_SWEEP_SECONDS: '3600' } });
    scope = new TenantScope(bed.runtimeDb);
    a = await bed.newTenant();
    b = await bed.newTenant();
    queue = await bed.newQueue();
    const submit = (tenantId: string, n: number) =>
      bed.rpc.request(
        SchedulerJobsSubmit,
        { queue: queue.name, type: 'iso', payload: { n } },
        tenantMember(tenantId),
      );
    await submit(a, 1);
    await submit(a, 2);
    await submit(b, 3);
    await bed.rpc.request(
      SchedulerWorkersRegister,
      { workerId: 'iso-worker', queue: queue.name, concurrency: 10 },
      worker(),
    );
    const { jobs } = await bed.rpc.request(
      SchedulerJobsLease,
      { workerId: 'iso-worker', queue: queue.name, max: 10 },
      worker(),
    );
    for (const job of jobs)
      await bed.rpc.request(
        SchedulerJobsStart,
        { workerId: 'iso-worker', jobId: job.id },
        worker(),
      );
  });
  afterAll(() => bed?.close());

  it('starts from rows of both tenants, as the owner sees them', async () => {
    // the premise of every test below: there is another tenant's data to leak
    for (const table of TENANT_OWNED.slice(0, 2)) {
      const rows: { tenant_id: string }[] = await bed.ownerDb.query(
        `SELECT DISTINCT tenant_id FROM scheduler.${table}`,
      );
      expect(new Set(rows.map((r) => r.tenant_id))).toEqual(new Set([a, b]));
    }
  });

  it('shows a tenant only its own jobs and transitions, though the query names no tenant', async () => {
    for (const [tenant, jobs] of [
      [a, 2],
      [b, 1],
    ] as const) {
      const seen = await scope.run(tenant, async (em) => ({
        jobs: (await em.query('SELECT tenant_id FROM scheduler.jobs')) as { tenant_id: string }[],
        moves: (await em.query('SELECT tenant_id FROM scheduler.job_transitions')) as {
          tenant_id: string;
        }[],
        outbox: (await em.query('SELECT tenant_id FROM scheduler.outbox')) as {
          tenant_id: string;
        }[],
      }));
      expect(seen.jobs).toHaveLength(jobs);
      // submitted, leased, started: three moves each
      expect(seen.moves).toHaveLength(3 * jobs);
      expect(
        new Set([...seen.jobs, ...seen.moves, ...seen.outbox].map((r) => r.tenant_id)),
      ).toEqual(new Set([tenant]));
    }
  });

  it('shows nothing where no tenant is set, nor to the platform scope', async () => {
    for (const table of TENANT_OWNED) {
      await expect(bed.runtimeDb.query(`SELECT * FROM scheduler.${table}`)).resolves.toEqual([]);
      await expect(
        scope.runAsPlatform((em) => em.query(`SELECT * FROM scheduler.${table}`)),
      ).resolves.toEqual([]);
    }
  });

  it('lets the dispatcher scope, and only it, read across tenants', async () => {
    const rows: { tenant_id: string }[] = await scope.runForDispatch((em) =>
      em.query('SELECT DISTINCT tenant_id FROM scheduler.jobs'),
    );
    expect(new Set(rows.map((r) => r.tenant_id))).toEqual(new Set([a, b]));
    // and a tenant's scope is not the dispatcher's: it still sees only its own
    const own: { tenant_id: string }[] = await scope.run(a, (em) =>
      em.query('SELECT DISTINCT tenant_id FROM scheduler.jobs'),
    );
    expect(own.map((r) => r.tenant_id)).toEqual([a]);
  });

  it('refuses to write a job for another tenant, or move one over to it', async () => {
    const insert = await sqlFailure(
      scope.run(a, (em) =>
        em.query(
          `INSERT INTO scheduler.jobs (id, tenant_id, owner_id, queue, type, priority, state,
             max_attempts, timeout_seconds, not_before, order_key)
           VALUES (gen_random_uuid(), $1, 'x', $2, 't', 'batch', 'queued', 1, 1, now(), 0)`,
          [b, queue.name],
        ),
      ),
    );
    expect(insert.code).toBe('42501');
    const moved = await sqlFailure(
      scope.run(a, (em) => em.query('UPDATE scheduler.jobs SET tenant_id = $1', [b])),
    );
    expect(moved.code).toBe('42501');
    const [, deleted] = await scope.run(a, (em) =>
      em.query('DELETE FROM scheduler.jobs WHERE tenant_id = $1', [b]),
    );
    expect(deleted).toBe(0);
    const [{ n }] = await bed.ownerDb.query(
      'SELECT count(*)::int AS n FROM scheduler.jobs WHERE tenant_id = $1',
      [b],
    );
    expect(n).toBe(1);
  });

  it('refuses TRUNCATE to the runtime role, which row-level security would not stop', async () => {
    for (const table of TENANT_OWNED) {
      const error = await sqlFailure(
        scope.run(a, (em) => em.query(`TRUNCATE scheduler.${table} CASCADE`)),
      );
      expect(error.code).toBe('42501');
    }
  });

  it('enables and forces row-level security on every tenant-owned table', async () => {
    const tables: { relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }[] =
      await bed.ownerDb.query(
        `SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class
          WHERE relnamespace = 'scheduler'::regnamespace AND relname = ANY($1)`,
        [[...TENANT_OWNED]],
      );
    expect(tables).toHaveLength(TENANT_OWNED.length);
    for (const t of tables)
      expect(t).toMatchObject({ relrowsecurity: true, relforcerowsecurity: true });
  });
});
