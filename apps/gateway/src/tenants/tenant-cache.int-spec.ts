import { randomUUID } from 'node:crypto';
import { JSONCodec, type NatsConnection, type Subscription } from 'nats';
import pino from 'pino';
import {
  TenantEvents,
  TenantsGet,
  type TenantChanged,
  type TenantStatus,
  type TenantView,
} from '@lattice/contracts';
import {
  EventBus,
  JetStreamPublisher,
  RpcClient,
  SubjectNamespace,
  connectNats,
  ensureStream,
} from '@lattice/messaging';
import { serviceContext } from '@lattice/request-context';
import { MetricsRegistry } from '@lattice/service-runtime';
import { eventually, testNamespace, testNatsUrl, testGatewaySigner } from '@lattice/testing';
import { TenantCache } from './tenant-cache';

const quotas = {
  requestsPerMinute: 600,
  tokensPerMonth: 1_000_000,
  storageBytes: 1_000_000,
  gpuSecondsPerMonth: 3_600,
  users: 10,
  concurrentJobs: 2,
  fairShareWeight: 1,
  auditRetentionDays: 30,
};

/**
 * The gateway's tenant cache over the real NATS server: a responder stands in for the tenants
 * service's get subject, and lifecycle events reach the cache the way the tenants service's
 * outbox sends them, through the TENANT_EVENTS stream.
 */
describe(TenantCache.name, () => {
  const ns = new SubjectNamespace(testNamespace());
  const json = JSONCodec();
  const silent = pino({ level: 'silent' });
  const ctx = serviceContext('gateway');
  /** The tenants as the tenants service holds them now. */
  const tenants = new Map<string, TenantView>();
  let gatewayNc: NatsConnection;
  let tenantsNc: NatsConnection;
  let responder: Subscription;
  let outbox: JetStreamPublisher;
  let cache: TenantCache;
  let asked = 0;

  const newTenant = (): TenantView => {
    const now = new Date().toISOString();
    const id = randomUUID();
    const tenant: TenantView = {
      id,
      slug: `t-${id.slice(0, 8)}`,
      name: 'Tenant',
      plan: 'starter',
      status: 'active',
      settings: {},
      quotaOverrides: {},
      quotas,
      createdAt: now,
      updatedAt: now,
      suspendedAt: null,
      deletedAt: null,
      purgeAfter: null,
      version: 1,
    };
    tenants.set(id, tenant);
    return tenant;
  };
  /** As the tenants service does: the change commits, then the outbox relays its event. */
  const change = async (id: string, type: TenantChanged['type'], status: TenantStatus) => {
    const tenant = { ...tenants.get(id)!, status, version: tenants.get(id)!.version + 1 };
    tenants.set(id, tenant);
    const event: TenantChanged = {
      eventId: randomUUID(),
      type,
      tenantId: id,
      slug: tenant.slug,
      version: tenant.version,
      occurredAt: new Date().toISOString(),
    };
    await outbox.publish(TenantEvents, event, event.eventId, type);
  };

  beforeAll(async () => {
    gatewayNc = await connectNats(testNatsUrl(), 'tenant-cache-gateway');
    tenantsNc = await connectNats(testNatsUrl(), 'tenant-cache-tenants');
    await ensureStream(tenantsNc, ns, TenantEvents.stream);
    outbox = new JetStreamPublisher(tenantsNc, ns);
    responder = tenantsNc.subscribe(ns.subject(TenantsGet.subject), {
      callback: (_error, msg) => {
        asked++;
        const { data } = json.decode(msg.data) as { data: { id: string } };
        msg.respond(json.encode({ response: tenants.get(data.id), isDisposed: true }));
      },
    });
    await tenantsNc.flush();
    const rpc = new RpcClient(gatewayNc, testGatewaySigner(), ns, 2_000);
    // entries outlive the test: only an event can make the cache ask again
    cache = new TenantCache(
      rpc,
      gatewayNc,
      new EventBus(gatewayNc, ns, silent),
      new MetricsRegistry(),
      10 * 60_000,
    );
    cache.onApplicationBootstrap();
    await gatewayNc.flush();
  });
  afterAll(async () => {
    await cache?.onApplicationShutdown();
    responder?.unsubscribe();
    await (
      await tenantsNc?.jetstreamManager()
    )?.streams
      .delete(ns.stream(TenantEvents.stream.name))
      .catch(() => undefined);
    await gatewayNc?.close();
    await tenantsNc?.close();
  });

  it('serves a tenant from the cache until its lifecycle event evicts it', async () => {
    const tenant = newTenant();
    expect((await cache.get(ctx, tenant.id)).status).toBe('active');
    const before = asked;
    expect((await cache.get(ctx, tenant.id)).status).toBe('active');
    expect(asked).toBe(before);

    await change(tenant.id, 'suspended', 'suspended');
    await eventually(async () =>
      expect((await cache.get(ctx, tenant.id)).status).toBe('suspended'),
    );
  });

  it('acts on no event outside the contract: the cache neither empties nor evicts on it', async () => {
    const kept = newTenant();
    const changed = newTenant();
    await cache.get(ctx, kept.id);
    await cache.get(ctx, changed.id);
    const before = asked;

    // malformed events ahead of a valid one, on the same connection so they arrive first
    tenantsNc.publish(
      ns.subject(`${TenantEvents.subject}.suspended`),
      json.encode({ tenantId: kept.id, type: 'suspended' }),
    );
    tenantsNc.publish(
      ns.subject(`${TenantEvents.subject}.suspended`),
      new TextEncoder().encode('{'),
    );
    await change(changed.id, 'suspended', 'suspended');
    await eventually(async () =>
      expect((await cache.get(ctx, changed.id)).status).toBe('suspended'),
    );

    expect((await cache.get(ctx, kept.id)).status).toBe('active');
    expect(asked).toBe(before + 1);
  });
});
