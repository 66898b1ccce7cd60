import { randomUUID } from 'node:crypto';
import { JSONCodec, type Subscription } from 'nats';
import {
  DomainError,
  ErrorCode,
  TenantEvents,
  TenantsCreate,
  TenantsDelete,
  TenantsGet,
  TenantsReactivate,
  type TenantChanged,
  type TenantView,
} from '@lattice/contracts';
import { eventually, failure, ManualClock } from '@lattice/testing';
import {
  platformAdmin,
  startTenantsTestBed,
  type TenantsTestBed,
} from '../../test/tenants.test-bed';
import { UsageService } from '../usage/usage.service';
import { TenantPurgeJob } from './tenant-purge.job';

const DAY = 86_400_000;
const RETENTION_DAYS = 30;

// room for `eventually` (10 s by default) to fail with its own message rather than a timeout
jest.setTimeout(30_000);

describe(TenantPurgeJob.name, () => {
  const clock = new ManualClock(new Date('2030-01-01T00:00:00.000Z'));
  let bed: TenantsTestBed;
  let purge: TenantPurgeJob;
  const events: TenantChanged[] = [];
  let sub: Subscription;

  const create = (slug = `purge-${randomUUID().slice(0, 8)}`) =>
    bed.rpc.request(TenantsCreate, { slug, name: 'Short-lived' }, platformAdmin());
  const exists = async (id: string): Promise<boolean> =>
    (await bed.ownerDb.query('SELECT 1 FROM tenants.tenants WHERE id = $1', [id])).length === 1;
  const usageRows = async (id: string): Promise<number> => {
    const [{ n }] = await bed.ownerDb.query(
      `SELECT (SELECT count(*) FROM tenants.usage_events WHERE tenant_id = $1)
            + (SELECT count(*) FROM tenants.usage_meters WHERE tenant_id = $1) AS n`,
      [id],
    );
    return Number(n);
  };
  const recordUsage = async (tenant: TenantView) => {
    const usage = bed.app.get(UsageService);
    for (const resource of ['tokens', 'storageBytes'] as const) {
      await usage.record({
        messageId: randomUUID(),
        tenantId: tenant.id,
        resource,
        amount: 1_000,
        occurredAt: clock.now().toISOString(),
        source: 'purge-test',
      });
    }
  };

  beforeAll(async () => {
    bed = await startTenantsTestBed({
      clock,
      env: { TENANT_RETENTION_DAYS: String(RETENTION_DAYS) },
    });
    purge = bed.app.get(TenantPurgeJob);
    const codec = JSONCodec<TenantChanged>();
    sub = bed.nats.subscribe(bed.ns.subject(`${TenantEvents.subject}.purged`), {
      callback: (_, msg) => events.push(codec.decode(msg.data)),
    });
  });
  afterAll(async () => {
    sub?.unsubscribe();
    await bed?.close();
  });

  it('keeps a deleted tenant for its retention, then purges it with its usage and announces it', async () => {
    const tenant = await create();
    await recordUsage(tenant);
    expect(await usageRows(tenant.id)).toBe(4);
    const deleted = await bed.rpc.request(TenantsDelete, { id: tenant.id }, platformAdmin());
    const purgeAfter = new Date(deleted.purgeAfter!).getTime();
    expect(purgeAfter).toBe(clock.now().getTime() + RETENTION_DAYS * DAY);

    // a second before the end of retention: still there, and it can still be brought back
    clock.advance(purgeAfter - clock.now().getTime() - 1_000);
    await purge.purgeDue();
    expect(await exists(tenant.id)).toBe(true);
    expect(await usageRows(tenant.id)).toBe(4);
    await expect(
      bed.rpc.request(TenantsGet, { id: tenant.id }, platformAdmin()),
    ).resolves.toMatchObject({
      status: 'deleted',
    });

    clock.advance(2_000);
    expect(await purge.purgeDue()).toBeGreaterThanOrEqual(1);
    expect(await exists(tenant.id)).toBe(false);
    expect(await usageRows(tenant.id)).toBe(0);
    const gone = await failure(bed.rpc.request(TenantsGet, { id: tenant.id }, platformAdmin()));
    expect(gone.code).toBe(ErrorCode.NotFound);

    await eventually(() =>
      expect(events.filter((e) => e.tenantId === tenant.id)).toEqual([
        expect.objectContaining({
          type: 'purged',
          slug: tenant.slug,
          occurredAt: clock.now().toISOString(),
        }),
      ]),
    );
    // purging again finds nothing more to do and announces nothing more
    await purge.purgeDue();
    const { n } = (
      await bed.ownerDb.query(
        'SELECT count(*)::int AS n FROM tenants.outbox WHERE tenant_id = $1',
        [tenant.id],
      )
    )[0];
    expect(n).toBe(0);
    expect(events.filter((e) => e.tenantId === tenant.id)).toHaveLength(1);
  });

  it("holds a deleted tenant's slug until the purge, then frees it for a new tenant", async () => {
    const tenant = await create();
    await bed.rpc.request(TenantsDelete, { id: tenant.id }, platformAdmin());
    const taken = await failure(create(tenant.slug));
    expect(taken.code).toBe(ErrorCode.Conflict);

    clock.advance(RETENTION_DAYS * DAY + 1);
    await purge.purgeDue();
    expect(await exists(tenant.id)).toBe(false);

    const successor = await create(tenant.slug);
    expect(successor).toMatchObject({ slug: tenant.slug, status: 'active', version: 1 });
    expect(successor.id).not.toBe(tenant.id);
    // the newcomer inherits nothing of its predecessor's usage
    expect(await usageRows(successor.id)).toBe(0);
  });

  it('never purges a tenant that was reactivated, however long it waits', async () => {
    const tenant = await create();
    await recordUsage(tenant);
    await bed.rpc.request(TenantsDelete, { id: tenant.id }, platformAdmin());
    clock.advance(10 * DAY);
    const back = await bed.rpc.request(TenantsReactivate, { id: tenant.id }, platformAdmin());
    expect(back).toMatchObject({ status: 'active', deletedAt: null, purgeAfter: null });

    clock.advance(10 * 365 * DAY);
    await purge.purgeDue();
    expect(await exists(tenant.id)).toBe(true);
    expect(await usageRows(tenant.id)).toBe(4);
    await expect(
      bed.rpc.request(TenantsGet, { id: tenant.id }, platformAdmin()),
    ).resolves.toMatchObject({
      status: 'active',
    });
  });

  it('never both reactivates and purges a tenant when the two meet', async () => {
    const tenant = await create();
    await recordUsage(tenant);
    await bed.rpc.request(TenantsDelete, { id: tenant.id }, platformAdmin());
    clock.advance(RETENTION_DAYS * DAY + 1);
    // let the last event out first, so the lock below holds up only the two under test
    await eventually(async () =>
      expect((await bed.ownerDb.query('SELECT count(*)::int AS n FROM tenants.outbox'))[0].n).toBe(
        0,
      ),
    );

    // Both the purge and the reactivation write an event to the outbox in their transaction.
    // Holding the outbox still makes each wait there, part-way through, so that they overlap:
    // the purge has already found the tenant due when the reactivation changes it.
    const blocker = bed.ownerDb.createQueryRunner();
    await blocker.connect();
    let reactivated: Promise<TenantView | DomainError> | undefined;
    let purging: Promise<number> | undefined;
    try {
      await blocker.startTransaction();
      await blocker.query('LOCK TABLE tenants.outbox IN SHARE MODE');
      const waiting = async (n: number) =>
        eventually(async () => {
          const [row] = await bed.ownerDb.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          );
          expect(row.n).toBe(n);
        });
      purging = purge.purgeDue();
      await waiting(1);
      reactivated = bed.rpc
        .request(TenantsReactivate, { id: tenant.id }, platformAdmin(), { timeoutMs: 15_000 })
        .catch((error: DomainError) => error);
      await waiting(2);
    } finally {
      await blocker.rollbackTransaction().catch(() => undefined);
      await blocker.release();
    }
    await purging;
    const outcome = await reactivated!;

    if (outcome instanceof DomainError) {
      // the purge came first: the reactivation is told the tenant is gone, and it is
      expect(outcome.code).toBe(ErrorCode.NotFound);
      expect(await exists(tenant.id)).toBe(false);
    } else {
      // the reactivation came first: what it answered is what stays, data included
      expect(outcome).toMatchObject({ id: tenant.id, status: 'active' });
      expect(await exists(tenant.id)).toBe(true);
      expect(await usageRows(tenant.id)).toBe(4);
      await expect(
        bed.rpc.request(TenantsGet, { id: tenant.id }, platformAdmin()),
      ).resolves.toMatchObject({
        status: 'active',
      });
      const [{ n }] = await bed.ownerDb.query(
        `SELECT count(*)::int AS n FROM tenants.outbox WHERE tenant_id = $1 AND subject_suffix = 'purged'`,
        [tenant.id],
      );
      expect(n).toBe(0);
      expect(events.filter((e) => e.tenantId === tenant.id)).toEqual([]);
    }
  });

  it('counts retention afresh from a second deletion, not from the first', async () => {
    const tenant = await create();
    await bed.rpc.request(TenantsDelete, { id: tenant.id }, platformAdmin());
    clock.advance(20 * DAY);
    await bed.rpc.request(TenantsReactivate, { id: tenant.id }, platformAdmin());
    await bed.rpc.request(TenantsDelete, { id: tenant.id }, platformAdmin());

    // 35 days after the first deletion, 15 after the second
    clock.advance(15 * DAY);
    await purge.purgeDue();
    expect(await exists(tenant.id)).toBe(true);

    clock.advance(RETENTION_DAYS * DAY - 15 * DAY);
    await purge.purgeDue();
    expect(await exists(tenant.id)).toBe(false);
  });
});
