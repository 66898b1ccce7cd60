import { randomUUID } from 'node:crypto';
import {
  AuditVerify,
  ErrorCode,
  PLATFORM_TENANT_ID,
  TenantsGet,
  type Plan,
  type TenantView,
} from '@lattice/contracts';
import {
  auditEvent,
  platformAdmin,
  startAuditTestBed,
  type AuditTestBed,
} from '../../test/audit.test-bed';
import { respond } from '@lattice/testing';
import { ChainService } from '../chain/chain.service';
import { RetentionService } from './retention.service';

jest.setTimeout(60_000);

const DAY = 86_400_000;
const RETENTION: Record<Plan, number> = {
  free: 7,
  starter: 30,
  professional: 90,
  enterprise: 365,
  custom: 7,
};

describe(RetentionService.name, () => {
  let bed: AuditTestBed;
  const plans = new Map<string, Plan>();

  beforeAll(async () => {
    bed = await startAuditTestBed({ env: { AUDIT_PLATFORM_RETENTION_DAYS: '60' } });
    // the tenants service's answer, as far as retention reads it: the plan's audit quota
    respond(bed.nats, bed.ns, TenantsGet, 'tenants', ({ id }) => {
      const plan = plans.get(id);
      if (!plan) return { err: { code: ErrorCode.NotFound, message: 'no such tenant' } };
      const now = new Date().toISOString();
      const tenant: TenantView = {
        id,
        slug: `t-${id.slice(0, 8)}`,
        name: 'Retained',
        plan,
        status: 'active',
        settings: {},
        quotaOverrides: {},
        quotas: {
          requestsPerMinute: 60,
          tokensPerMonth: 1,
          storageBytes: 1,
          gpuSecondsPerMonth: 1,
          users: 1,
          concurrentJobs: 1,
          fairShareWeight: 1,
          auditRetentionDays: RETENTION[plan],
        },
        createdAt: now,
        updatedAt: now,
        suspendedAt: null,
        deletedAt: null,
        purgeAfter: null,
        version: 1,
      };
      return tenant;
    });
  });
  afterAll(() => bed?.close());

  /** Writes events that happened the given numbers of days ago, in that order. */
  async function trail(tenantId: string, daysAgo: number[]): Promise<void> {
    for (const days of daysAgo) {
      await bed.publish(
        auditEvent(tenantId, { occurredAt: new Date(Date.now() - days * DAY).toISOString() }),
      );
    }
    await bed.caughtUp();
  }
  const verify = (tenantId: string) => bed.rpc.request(AuditVerify, { tenantId }, platformAdmin());
  const retention = () => bed.app.get(RetentionService);

  it('removes what is past the plan’s retention, leaving a chain that verifies from a checkpoint', async () => {
    const tenantId = randomUUID();
    plans.set(tenantId, 'starter');
    await trail(tenantId, [100, 100, 95, 40, 31, 20, 10, 1]);
    // periodic checkpoints where the cut falls and at the head: the cut is signed beside them
    await bed.app.get(ChainService).checkpoint(tenantId, 5);
    await bed.app.get(ChainService).checkpoint(tenantId);
    expect(await retention().applyTo(tenantId)).toBe(5);
    expect(await bed.count(tenantId)).toBe(3);
    expect(await verify(tenantId)).toMatchObject({
      valid: true,
      anchorSeq: 5,
      headSeq: 8,
      eventsChecked: 3,
      checkpointsChecked: 2,
    });
    const kinds = await bed.ownerDb.query(
      `SELECT seq::int, kind FROM audit.checkpoints WHERE tenant_id = $1 ORDER BY seq`,
      [tenantId],
    );
    expect(kinds).toEqual([
      { seq: 5, kind: 'retention' },
      { seq: 8, kind: 'periodic' },
    ]);
    // nothing more is due, and the chain goes on from where it was
    expect(await retention().applyTo(tenantId)).toBe(0);
    await trail(tenantId, [0, 0]);
    expect(await verify(tenantId)).toMatchObject({ valid: true, anchorSeq: 5, headSeq: 10 });
  });

  it('keeps a longer plan’s events longer, and the platform’s for its configured days', async () => {
    const pro = randomUUID();
    plans.set(pro, 'professional');
    await trail(pro, [200, 100, 80, 40]);
    expect(await retention().applyTo(pro)).toBe(2);

    await trail(PLATFORM_TENANT_ID, [100, 61, 59]);
    expect(await retention().applyTo(PLATFORM_TENANT_ID)).toBe(2);
    expect(await verify(PLATFORM_TENANT_ID)).toMatchObject({ valid: true, anchorSeq: 2 });
  });

  it('cuts only below the first event still within retention, even if older ones follow it', async () => {
    const tenantId = randomUUID();
    plans.set(tenantId, 'starter');
    await trail(tenantId, [100, 5, 100]);
    expect(await retention().applyTo(tenantId)).toBe(1);
    expect(await bed.count(tenantId)).toBe(2);
    expect((await verify(tenantId)).valid).toBe(true);
  });

  it('removes everything when all of it is past retention, and still verifies', async () => {
    const tenantId = randomUUID();
    plans.set(tenantId, 'custom');
    await trail(tenantId, [30, 20, 10]);
    expect(await retention().applyTo(tenantId)).toBe(3);
    expect(await verify(tenantId)).toMatchObject({ valid: true, anchorSeq: 3, headSeq: 3 });
  });

  it('keeps the trail of a tenant the tenants service does not know', async () => {
    const tenantId = randomUUID();
    await trail(tenantId, [400, 300]);
    // beside it, a known tenant with one event due: the pass goes on past the unknown one
    // (the tests above left nothing else due)
    const known = randomUUID();
    plans.set(known, 'starter');
    await trail(known, [100, 1]);
    expect(await retention().applyAll()).toBe(1);
    expect(await bed.count(known)).toBe(1);
    expect(await bed.count(tenantId)).toBe(2);
  });
});
