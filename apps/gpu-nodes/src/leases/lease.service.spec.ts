import { randomUUID } from 'node:crypto';
import { ErrorCode, type GpuServedModel } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { AuditRecorder, RpcClient } from '@lattice/messaging';
import { serviceContext, type RequestContext } from '@lattice/request-context';
import { Clock } from '@lattice/service-runtime';
import {
  ManualClock,
  createTestBed,
  failure,
  provide,
  strictMock,
  type StrictMock,
} from '@lattice/testing';
import { EntityManager } from 'typeorm';
import { NodeRepository, type GpuRow, type NodeRow } from '../registry/node.repository';
import { LeaseEndings } from './lease-endings';
import { LeaseRepository, type LeaseRow } from './lease.repository';
import { LeaseService, PLACEMENT_SETTINGS } from './lease.service';

const NOW = new Date('2026-12-01T12:00:00Z');
const TENANT = '30000000-0000-4000-8000-000000000001';
const OTHER = '30000000-0000-4000-8000-000000000002';
const member = (tenantId: string, roles = ['tenant-admin']): RequestContext => ({
  tenantId,
  actor: { type: 'user', id: 'u-1', roles },
  requestId: randomUUID(),
});

function node(name: string, overrides: Partial<NodeRow> = {}): NodeRow {
  return {
    id: randomUUID(),
    name,
    kubeNode: name,
    labels: { zone: 'eu-1' },
    serves: [{ model: 'llama-3-8b', endpoint: `http://${name}/v1` }] as GpuServedModel[],
    state: 'healthy',
    health: 'healthy',
    rejoinIn: 0,
    score: 1,
    cordoned: false,
    draining: false,
    source: 'dcgm-exporter',
    driverVersion: '535.183.01',
    sourceError: null,
    intervalMs: 5_000,
    callerCalls: 0,
    callerFailures: 0,
    callerWindowStartedAt: NOW,
    lastHeartbeatAt: NOW,
    registeredAt: NOW,
    updatedAt: NOW,
    ...overrides,
  };
}

function gpu(of: NodeRow, overrides: Partial<GpuRow> = {}): GpuRow {
  return {
    uuid: `GPU-${of.name}`,
    nodeId: of.id,
    index: 0,
    model: 'Tesla V100-SXM2-32GB',
    pciBusId: null,
    totalMiB: 32_480,
    reservedMiB: 0,
    usedMiB: 0,
    freeMiB: 32_480,
    utilizationPercent: 10,
    temperatureC: 40,
    slowdownTemperatureC: 87,
    powerWatts: 50,
    lastXid: 0,
    eccUncorrectable: 0,
    remappedRowsUncorrectable: 0,
    rowRemapFailed: false,
    lost: false,
    score: 1,
    sampledAt: NOW,
    leasedMiB: 0,
    leaseCount: 0,
    ...overrides,
  };
}

function lease(overrides: Partial<LeaseRow> = {}): LeaseRow {
  return {
    id: randomUUID(),
    tenantId: TENANT,
    ownerId: 'u-1',
    nodeId: randomUUID(),
    node: 'n-1',
    gpuUuid: 'GPU-n-1',
    gpuTotalMiB: 32_480,
    vramMiB: 1_000,
    chargedMiB: 1_400,
    model: null,
    holderNamespace: null,
    holderKind: null,
    holderName: null,
    state: 'active',
    ttlSeconds: 60,
    expiresAt: new Date(NOW.getTime() + 60_000),
    createdAt: NOW,
    endedAt: null,
    endReason: null,
    ...overrides,
  };
}

describe(LeaseService.name, () => {
  let sut: LeaseService;
  let clock: ManualClock;
  let nodes: StrictMock<NodeRepository>;
  let leases: StrictMock<LeaseRepository>;
  let endings: StrictMock<LeaseEndings>;
  let rpc: StrictMock<RpcClient>;
  const scoped: string[] = [];

  beforeEach(() => {
    clock = new ManualClock(NOW);
    const bed = createTestBed(LeaseService, [
      provide(Clock, clock),
      provide(PLACEMENT_SETTINGS, { cudaContextMiB: 400, settleToleranceMiB: 256 }),
    ]);
    sut = bed.sut;
    const em = strictMock(EntityManager);
    const scope = bed.mocks.get(TenantScope);
    scoped.length = 0;
    scope.run.mockImplementation((tenant, work) => {
      scoped.push(tenant);
      return work(em);
    });
    scope.runForDispatch.mockImplementation((work) => {
      scoped.push('dispatch');
      return work(em);
    });
    nodes = bed.mocks.get(NodeRepository);
    leases = bed.mocks.get(LeaseRepository);
    endings = bed.mocks.get(LeaseEndings);
    rpc = bed.mocks.get(RpcClient);
    bed.mocks.get(AuditRecorder).record.mockReturnValue(randomUUID());
    endings.announce.mockReturnValue(undefined);
    leases.active.mockResolvedValue([]);
    rpc.request.mockResolvedValue({
      allowed: true,
      resource: 'gpuSeconds',
      used: 0,
      limit: 3_600,
      remaining: 3_600,
      period: '2026-12',
    });
    nodes.lockAllGpus.mockResolvedValue(undefined);
    leases.insert.mockResolvedValue(undefined);
  });

  it('places a lease on the fullest card it fits, under the GPU locks, and charges a CUDA context', async () => {
    const a = node('a');
    const b = node('b');
    nodes.list.mockResolvedValue([a, b]);
    nodes.gpusOf.mockResolvedValue([
      gpu(a, { leasedMiB: 20_000, leaseCount: 2, usedMiB: 20_000 }),
      gpu(b),
    ]);
    leases.byId.mockImplementation(async (_em, id) =>
      lease({ id, node: 'a', gpuUuid: 'GPU-a', vramMiB: 8_000, chargedMiB: 8_400 }),
    );

    const view = await sut.create(member(TENANT), { vramMiB: 8_000, ttlSeconds: 60 });

    expect(view).toMatchObject({ node: 'a', gpuUuid: 'GPU-a', chargedMiB: 8_400, state: 'active' });
    expect(nodes.lockAllGpus).toHaveBeenCalledTimes(1);
    expect(leases.insert).toHaveBeenCalledWith(
      expect.anything(),
      expect.objectContaining({ tenantId: TENANT, gpuUuid: 'GPU-a', chargedMiB: 8_400 }),
    );
    // the quota is read in the tenant's scope, the placement in the dispatcher's
    expect(scoped).toEqual([TENANT, 'dispatch']);
    expect(endings.announce).toHaveBeenCalledWith([expect.objectContaining({ state: 'active' })]);
  });

  it('places nothing on a node that is unhealthy, draining or cordoned, nor on a lost GPU', async () => {
    const down = node('down', { state: 'unhealthy', health: 'unhealthy' });
    const drained = node('drained', { state: 'draining', draining: true });
    const cordoned = node('cordoned', { cordoned: true });
    const lostOne = node('lost');
    nodes.list.mockResolvedValue([down, drained, cordoned, lostOne]);
    nodes.gpusOf.mockResolvedValue([
      gpu(down),
      gpu(drained),
      gpu(cordoned),
      gpu(lostOne, { lost: true }),
    ]);
    const refused = await failure(sut.create(member(TENANT), { vramMiB: 1_000, ttlSeconds: 60 }));
    expect(refused).toMatchObject({
      code: ErrorCode.Conflict,
      details: { reason: 'no-eligible-gpu' },
    });
    expect(leases.insert).not.toHaveBeenCalled();
  });

  it('holds a card whose measured use runs ahead of its leases until it settles', async () => {
    const n = node('busy');
    nodes.list.mockResolvedValue([n]);
    nodes.gpusOf.mockResolvedValue([gpu(n, { usedMiB: 6_000, leasedMiB: 1_400, leaseCount: 1 })]);
    const refused = await failure(sut.create(member(TENANT), { vramMiB: 1_000, ttlSeconds: 60 }));
    expect(refused).toMatchObject({
      code: ErrorCode.Conflict,
      details: { reason: 'unsettled' },
    });
  });

  it('refuses a lease the plan has no GPU time left for, before placing it', async () => {
    leases.active.mockResolvedValue([lease({ createdAt: new Date(NOW.getTime() - 3_600_000) })]);
    rpc.request.mockResolvedValue({
      allowed: false,
      resource: 'gpuSeconds',
      used: 3_600,
      limit: 3_600,
      remaining: 0,
      period: '2026-12',
    });
    const refused = await failure(sut.create(member(TENANT), { vramMiB: 1_000, ttlSeconds: 60 }));
    expect(refused.code).toBe(ErrorCode.QuotaExceeded);
    // an hour on 1400 of 32480 MiB (156 GPU-seconds) plus this lease's first minute
    expect(rpc.request).toHaveBeenCalledWith(
      expect.anything(),
      { tenantId: TENANT, resource: 'gpuSeconds', amount: 156 + 60 },
      expect.objectContaining({ actor: expect.objectContaining({ type: 'service' }) }),
    );
    expect(nodes.lockAllGpus).not.toHaveBeenCalled();
  });

  it('lets a service lease for the tenant it names, and refuses one that names none', async () => {
    const refused = await failure(
      sut.create(serviceContext('inference-worker'), { vramMiB: 1_000, ttlSeconds: 60 }),
    );
    expect(refused.code).toBe(ErrorCode.ValidationFailed);
    const viewer = await failure(
      sut.create(member(TENANT, ['viewer']), { vramMiB: 1_000, ttlSeconds: 60 }),
    );
    expect(viewer.code).toBe(ErrorCode.Forbidden);
    const across = await failure(
      sut.create(member(TENANT), { vramMiB: 1_000, ttlSeconds: 60, tenantId: OTHER }),
    );
    expect(across.code).toBe(ErrorCode.Forbidden);
  });

  it('renews an active lease for its time to live from now', async () => {
    const held = lease();
    leases.byId.mockResolvedValue(held);
    leases.renew.mockResolvedValue(undefined);
    clock.advance(30_000);
    const view = await sut.renew(member(TENANT), { id: held.id });
    expect(view.expiresAt).toBe(new Date(NOW.getTime() + 90_000).toISOString());
    expect(scoped).toEqual([TENANT]);
  });

  it('tells a holder renewing a lost lease that it was lost, and why', async () => {
    leases.byId.mockResolvedValue(
      lease({ state: 'lost', endedAt: NOW, endReason: 'node n-1 is offline' }),
    );
    const refused = await failure(sut.renew(member(TENANT), { id: randomUUID() }));
    expect(refused).toMatchObject({
      code: ErrorCode.InvalidState,
      details: { state: 'lost', reason: 'node n-1 is offline' },
    });
  });

  it('expires a lease renewed too late, rather than renewing it', async () => {
    const held = lease();
    leases.byId.mockResolvedValue(held);
    endings.end.mockResolvedValue({ ...held, state: 'expired', endedAt: NOW });
    clock.advance(61_000);
    const refused = await failure(sut.renew(member(TENANT), { id: held.id }));
    expect(refused).toMatchObject({ code: ErrorCode.InvalidState, details: { state: 'expired' } });
    expect(endings.end).toHaveBeenCalledWith(
      expect.anything(),
      held.id,
      'expired',
      clock.now(),
      'not renewed in time',
    );
  });

  it('says a lease of another tenant does not exist', async () => {
    leases.byId.mockResolvedValue(null);
    expect((await failure(sut.release(member(TENANT), randomUUID()))).code).toBe(
      ErrorCode.NotFound,
    );
    expect((await failure(sut.get(member(TENANT), randomUUID()))).code).toBe(ErrorCode.NotFound);
  });
});
