import { randomUUID } from 'node:crypto';
import { JSONCodec } from 'nats';
import {
  ErrorCode,
  TenantsCreate,
  TenantsQuotaCheck,
  TenantsSuspend,
  TenantsUsage,
  UsageStream,
  UsageReports,
  type MeteredResource,
  type Plan,
  type TenantView,
  type UsageRecorded,
} from '@lattice/contracts';
import { JetStreamPublisher } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { eventually, failure, ManualClock } from '@lattice/testing';
import {
  platformAdmin,
  startTenantsTestBed,
  tenantMember,
  type TenantsTestBed,
} from '../../test/tenants.test-bed';
import { UsageService } from './usage.service';

const scheduler = (): RequestContext => ({
  tenantId: null,
  actor: { type: 'service', id: 'scheduler', roles: [] },
  requestId: randomUUID(),
});

// room for `eventually` (10 s by default) to fail with its own message rather than a timeout
jest.setTimeout(30_000);

describe(UsageService.name, () => {
  const clock = new ManualClock(new Date('2031-05-14T09:30:00.000Z'));
  let bed: TenantsTestBed;
  let publisher: JetStreamPublisher;

  const report = (tenantId: string, resource: MeteredResource, amount: number): UsageRecorded => ({
    messageId: randomUUID(),
    tenantId,
    resource,
    amount,
    occurredAt: clock.now().toISOString(),
    source: 'usage-test',
  });
  const publish = (msg: UsageRecorded, natsMsgId = msg.messageId) =>
    publisher.publish(UsageReports, msg, natsMsgId, msg.resource);
  /** Bypasses the publisher's own validation, as a buggy or hostile sender would. */
  const publishRaw = (resource: string, body: Uint8Array) =>
    bed.nats.jetstream().publish(bed.ns.subject(`${UsageReports.subject}.${resource}`), body, {
      msgID: randomUUID(),
    });

  const create = (plan: Plan = 'starter') =>
    bed.rpc.request(
      TenantsCreate,
      { slug: `use-${randomUUID().slice(0, 8)}`, name: 'Metered', plan },
      platformAdmin(),
    );
  const used = async (tenant: TenantView, resource: MeteredResource) => {
    const reply = await bed.rpc.request(
      TenantsUsage,
      { tenantId: tenant.id },
      tenantMember(tenant.id),
    );
    return reply.usage.find((u) => u.resource === resource)!.used;
  };
  const eventRows = async (tenantId: string, messageId?: string): Promise<number> => {
    const [{ n }] = await bed.ownerDb.query(
      `SELECT count(*)::int AS n FROM tenants.usage_events WHERE tenant_id = $1 AND ($2::text IS NULL OR message_id = $2)`,
      [tenantId, messageId ?? null],
    );
    return n;
  };

  /**
   * Waits until the service's durable consumer has finished with everything in the stream so
   * far (acked or terminated it), so a test can assert what it did *not* count.
   */
  const consumerCaughtUp = async () => {
    const jsm = await bed.nats.jetstreamManager();
    const stream = bed.ns.stream(UsageStream.name);
    const last = (await jsm.streams.info(stream)).state.last_seq;
    return eventually(async () => {
      const info = await jsm.consumers.info(stream, bed.ns.durable('tenants-usage'));
      expect(info.ack_floor.stream_seq).toBeGreaterThanOrEqual(last);
      expect(info.num_ack_pending).toBe(0);
      expect(info.num_pending).toBe(0);
      return info;
    });
  };

  beforeAll(async () => {
    bed = await startTenantsTestBed({ clock });
    publisher = new JetStreamPublisher(bed.nats, bed.ns);
  });
  afterAll(() => bed?.close());

  describe('counting', () => {
    it('counts a report sent twice with the same message id once', async () => {
      const t = await create();
      const msg = report(t.id, 'tokens', 1_234);
      await publish(msg);
      await publish(msg);
      await consumerCaughtUp();
      expect(await used(t, 'tokens')).toBe(1_234);
      expect(await eventRows(t.id, msg.messageId)).toBe(1);
    });

    it('counts a redelivered report once, even where JetStream sees a new message', async () => {
      const t = await create();
      const msg = report(t.id, 'gpuSeconds', 40);
      await publish(msg);
      await eventually(async () => expect(await used(t, 'gpuSeconds')).toBe(40));

      // a new NATS message id gets past the stream's duplicate window: only the service's
      // own idempotency key (the report's messageId) stands between it and a double count
      const jsm = await bed.nats.jetstreamManager();
      const before = (await jsm.streams.info(bed.ns.stream(UsageStream.name))).state.last_seq;
      await publish(msg, `resent-${randomUUID()}`);
      await publish(msg, `resent-${randomUUID()}`);
      const info = await consumerCaughtUp();
      expect(info.ack_floor.stream_seq).toBe(before + 2); // both copies reached the service

      expect(await used(t, 'gpuSeconds')).toBe(40);
      expect(await eventRows(t.id, msg.messageId)).toBe(1);
      const [{ used: meter }] = await bed.ownerDb.query(
        `SELECT used::int FROM tenants.usage_meters WHERE tenant_id = $1 AND resource = 'gpuSeconds'`,
        [t.id],
      );
      expect(meter).toBe(40);
    });

    it('adds up distinct reports, and keeps message ids apart per tenant', async () => {
      const a = await create();
      const b = await create();
      const shared = `job-${randomUUID()}`;
      await publish({ ...report(a.id, 'tokens', 300), messageId: shared }, `${a.id}:${shared}`);
      await publish({ ...report(b.id, 'tokens', 50), messageId: shared }, `${b.id}:${shared}`);
      await publish(report(a.id, 'tokens', 700));
      await eventually(async () => {
        expect(await used(a, 'tokens')).toBe(1_000);
        expect(await used(b, 'tokens')).toBe(50);
      });
    });

    it('lets storage shrink but refuses a negative token count', async () => {
      const t = await create();
      await publish(report(t.id, 'storageBytes', 10_000));
      await publish(report(t.id, 'storageBytes', -4_000));
      await eventually(async () => expect(await used(t, 'storageBytes')).toBe(6_000));

      // the contract stops a well-behaved sender before it sends
      await expect(publish(report(t.id, 'tokens', -500))).rejects.toThrow(
        /only storage may be reported as a negative/,
      );
      // and the service refuses one that sends it anyway
      const negative = report(t.id, 'tokens', -500);
      await publishRaw('tokens', JSONCodec().encode(negative));
      await publish(report(t.id, 'tokens', 25));
      await consumerCaughtUp();
      expect(await used(t, 'tokens')).toBe(25);
      expect(await eventRows(t.id, negative.messageId)).toBe(0);
    });
  });

  describe('messages that can never be counted', () => {
    it('terminates a report for an unknown tenant instead of redelivering it, and goes on', async () => {
      const t = await create();
      const ghost = report(randomUUID(), 'tokens', 999);
      const redeliveredBefore = (await consumerCaughtUp()).num_redelivered;
      await publish(ghost);
      await publish(report(t.id, 'tokens', 11));
      await eventually(async () => expect(await used(t, 'tokens')).toBe(11));

      const info = await consumerCaughtUp();
      expect(info.num_redelivered).toBe(redeliveredBefore);
      expect(await eventRows(ghost.tenantId)).toBe(0);
    });

    it('terminates reports outside the contract, and counts the valid ones behind them', async () => {
      const t = await create();
      const redeliveredBefore = (await consumerCaughtUp()).num_redelivered;
      const codec = JSONCodec();
      await publishRaw('tokens', new TextEncoder().encode('{ not json'));
      await publishRaw(
        'tokens',
        codec.encode({ ...report(t.id, 'tokens', 5), resource: 'bananas' }),
      );
      await publishRaw(
        'tokens',
        codec.encode({ ...report(t.id, 'tokens', 5), tenantId: 'not-a-uuid' }),
      );
      await publishRaw('tokens', codec.encode({ ...report(t.id, 'tokens', 5), amount: 1.5 }));
      await publishRaw('tokens', codec.encode({ ...report(t.id, 'tokens', 5), extra: 'field' }));
      const valid = report(t.id, 'tokens', 8);
      await publish(valid);

      await eventually(async () => expect(await used(t, 'tokens')).toBe(8));
      const info = await consumerCaughtUp();
      expect(info.num_redelivered).toBe(redeliveredBefore);
      expect(await eventRows(t.id)).toBe(1);
    });
  });

  describe('quota checks', () => {
    it("allows usage up to the starter plan's million tokens a month, and not a token more", async () => {
      const t = await create('starter');
      await publish(report(t.id, 'tokens', 999_000));
      await eventually(async () => expect(await used(t, 'tokens')).toBe(999_000));

      const check = (amount: number, ctx = scheduler()) =>
        bed.rpc.request(TenantsQuotaCheck, { tenantId: t.id, resource: 'tokens', amount }, ctx);
      await expect(check(1_000)).resolves.toEqual({
        allowed: true,
        resource: 'tokens',
        used: 999_000,
        limit: 1_000_000,
        remaining: 1_000,
        period: '2031-05',
      });
      await expect(check(1_001)).resolves.toMatchObject({ allowed: false, remaining: 1_000 });
      // the tenant's own members get the same answer
      await expect(check(1_000, tenantMember(t.id))).resolves.toMatchObject({ allowed: true });

      await publish(report(t.id, 'tokens', 2_000));
      await eventually(async () => expect(await used(t, 'tokens')).toBe(1_001_000));
      await expect(check(0)).resolves.toMatchObject({
        allowed: false,
        used: 1_001_000,
        remaining: 0,
      });
      // another resource is measured against its own limit
      await expect(
        bed.rpc.request(
          TenantsQuotaCheck,
          { tenantId: t.id, resource: 'gpuSeconds', amount: 3_600 },
          scheduler(),
        ),
      ).resolves.toMatchObject({ allowed: true, limit: 3_600 });
    });

    it('allows a suspended tenant nothing, however little it has used', async () => {
      const t = await create('enterprise');
      await bed.rpc.request(TenantsSuspend, { id: t.id }, platformAdmin());
      await expect(
        bed.rpc.request(
          TenantsQuotaCheck,
          { tenantId: t.id, resource: 'tokens', amount: 1 },
          scheduler(),
        ),
      ).resolves.toMatchObject({ allowed: false, used: 0 });
      await expect(
        bed.rpc.request(
          TenantsQuotaCheck,
          { tenantId: t.id, resource: 'tokens', amount: 0 },
          scheduler(),
        ),
      ).resolves.toMatchObject({ allowed: false });
    });
  });

  describe('who may look', () => {
    it("hides one tenant's usage and quota from another tenant's members", async () => {
      const a = await create();
      const b = await create();
      await publish(report(b.id, 'tokens', 77));
      await eventually(async () => expect(await used(b, 'tokens')).toBe(77));

      const read = await failure(
        bed.rpc.request(TenantsUsage, { tenantId: b.id }, tenantMember(a.id, ['tenant-owner'])),
      );
      expect(read.code).toBe(ErrorCode.NotFound);
      const quota = await failure(
        bed.rpc.request(
          TenantsQuotaCheck,
          { tenantId: b.id, resource: 'tokens', amount: 0 },
          tenantMember(a.id),
        ),
      );
      expect(quota.code).toBe(ErrorCode.NotFound);
      // the answer is the same as for a tenant that does not exist at all
      const missing = await failure(
        bed.rpc.request(TenantsUsage, { tenantId: randomUUID() }, platformAdmin()),
      );
      expect(missing.code).toBe(ErrorCode.NotFound);
      // while a platform administrator sees it
      const seen = await bed.rpc.request(TenantsUsage, { tenantId: b.id }, platformAdmin());
      expect(seen.usage.find((u) => u.resource === 'tokens')).toMatchObject({
        used: 77,
        limit: 1_000_000,
      });
    });
  });
});
