import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import {
  DomainError,
  ErrorCode,
  TenantsCreate,
  TenantsGet,
  TenantsUsage,
  UsageReports,
  type TenantView,
  type UsageRecorded,
} from '@lattice/contracts';
import { JetStreamPublisher } from '@lattice/messaging';
import { NATS_CONNECTION } from '@lattice/service-runtime';
import { LocalNatsServer, eventually } from '@lattice/testing';
import { platformAdmin, startTenantsTestBed, type TenantsTestBed } from '../test/tenants.test-bed';

const RECOVERY = { timeoutMs: 20_000, intervalMs: 250 };
/** More reconnect attempts than a NATS client makes by default (10) before it gives up. */
const OUTAGE_ATTEMPTS = 12;

jest.setTimeout(60_000);

/**
 * The tenants service against a NATS server of this file's own, which the test stops and
 * starts again on the same port with the same JetStream store, as an operator's restart would.
 */
describe('tenants service across a NATS restart', () => {
  let server: LocalNatsServer;
  let bed: TenantsTestBed;
  let tenant: TenantView;
  let reconnectAttempts = 0;

  const tokensUsed = async () => {
    const reply = await bed.rpc.request(TenantsUsage, { tenantId: tenant.id }, platformAdmin(), {
      timeoutMs: 2_000,
    });
    return reply.usage.find((u) => u.resource === 'tokens')!.used;
  };
  const report = (amount: number): UsageRecorded => ({
    messageId: randomUUID(),
    tenantId: tenant.id,
    resource: 'tokens',
    amount,
    occurredAt: new Date().toISOString(),
    source: 'restart-test',
  });
  const publish = (msg: UsageRecorded) =>
    new JetStreamPublisher(bed.nats, bed.ns).publish(
      UsageReports,
      msg,
      msg.messageId,
      msg.resource,
    );
  /** Stops NATS and keeps it down until the service has tried, and failed, to reconnect for a while. */
  const outage = async () => {
    const before = reconnectAttempts;
    await server.halt();
    await eventually(
      () => expect(reconnectAttempts - before).toBeGreaterThanOrEqual(OUTAGE_ATTEMPTS),
      RECOVERY,
    );
  };

  beforeAll(async () => {
    server = await LocalNatsServer.start();
    bed = await startTenantsTestBed({ env: { NATS_URL: server.url } });
    // the service's own connection reports each attempt it makes to get back
    const nc = bed.app.get<NatsConnection>(NATS_CONNECTION);
    void (async () => {
      for await (const status of nc.status())
        if (status.type === 'reconnecting') reconnectAttempts++;
    })();
  }, 60_000);
  afterAll(async () => {
    await bed?.close();
    await server?.stop();
  }, 60_000);

  it('answers requests and counts usage again once NATS is back', async () => {
    tenant = await bed.rpc.request(
      TenantsCreate,
      { slug: `nr-${randomUUID().slice(0, 8)}`, name: 'Restart' },
      platformAdmin(),
    );
    await publish(report(100));
    await eventually(async () => expect(await tokensUsed()).toBe(100), RECOVERY);

    await outage();
    // while the bus is down a call fails with a clear error instead of hanging
    let down: unknown;
    try {
      await bed.rpc.request(TenantsGet, { id: tenant.id }, platformAdmin(), { timeoutMs: 1_000 });
    } catch (error) {
      down = error;
    }
    expect(down).toBeInstanceOf(DomainError);
    expect([ErrorCode.Unavailable, ErrorCode.Timeout]).toContain((down as DomainError).code);

    await server.resume();

    // request/reply: the service's subscriptions come back by themselves
    await eventually(
      async () =>
        expect(
          await bed.rpc.request(TenantsGet, { id: tenant.id }, platformAdmin(), {
            timeoutMs: 1_000,
          }),
        ).toMatchObject({
          id: tenant.id,
        }),
      RECOVERY,
    );
    // nothing counted before the restart was lost with it
    expect(await tokensUsed()).toBe(100);

    // JetStream: the durable consumer picks up what is published after the restart
    // (a retried publish carries the same ids, so a retry after a lost ack counts once)
    const after = report(25);
    await eventually(() => publish(after), RECOVERY);
    await eventually(async () => expect(await tokensUsed()).toBe(125), RECOVERY);
  });

  it('survives a second restart as well', async () => {
    await outage();
    await server.resume();
    const after = report(5);
    await eventually(() => publish(after), RECOVERY);
    await eventually(async () => expect(await tokensUsed()).toBe(130), RECOVERY);
  });
});
