import type { AddressInfo } from 'node:net';
import {
  ErrorCode,
  GpuLeasesCreate,
  GpuLeasesGet,
  GpuLeasesList,
  GpuLeasesRelease,
  GpuLeasesRenew,
  GpuMemoryQuerySubject,
  GpuNodesDrain,
  GpuNodesGet,
  GpuNodesList,
  GpuNodesRegister,
  GpuRoute,
  GpuRouteReportFailure,
  type GpuNodeView,
} from '@lattice/contracts';
import { ManualClock, eventually, failure } from '@lattice/testing';
import { NodeHealthService } from './health/node-health.service';
import { LeaseService } from './leases/lease.service';
import {
  heartbeat,
  platformOperator,
  reading,
  service,
  startGpuNodesTestBed,
  tenantMember,
  type GpuNodesTestBed,
} from '../test/gpu-nodes.test-bed';

// the file starts the tenants service from the build, and a busy machine is slow
jest.setTimeout(60_000);

const MODEL = 'llama-3-8b-instruct';
const endpoint = (node: string) => `http://${node}.gpu.internal:8000/v1`;

describe('the GPU-node service on PostgreSQL and NATS', () => {
  let bed: GpuNodesTestBed;
  let clock: ManualClock;
  let tenantA: string;
  let tenantB: string;

  beforeAll(async () => {
    clock = new ManualClock(new Date());
    // the tests sweep by hand, with their own clock
    bed = await startGpuNodesTestBed({ clock, sweep: false });
    [tenantA, tenantB] = [await bed.newTenant(), await bed.newTenant()];
  });
  afterAll(() => bed?.close());

  const health = () => bed.app.get(NodeHealthService);
  const leases = () => bed.app.get(LeaseService);

  /** A node, registered by the API with what it serves, then beating until it is in routing. */
  async function joinedNode(
    name: string,
    gpus = [reading(`GPU-${name}-0`, 0)],
  ): Promise<GpuNodeView> {
    await bed.rpc.request(
      GpuNodesRegister,
      {
        name,
        // each test places on its own pool of nodes
        labels: { zone: 'eu-1', pool: name.split('-')[0]! },
        serves: [
          {
            model: MODEL,
            endpoint: endpoint(name),
            workload: { namespace: 'inference', kind: 'Deployment', name: `server-${name}` },
          },
        ],
      },
      platformOperator(),
    );
    await health().heartbeat(heartbeat(name, gpus));
    const [node] = (await bed.rpc.request(GpuNodesList, {}, platformOperator())).items.filter(
      (n) => n.name === name,
    );
    return node!;
  }

  it('registers a node on its agent first heartbeat and refreshes it on the next', async () => {
    await bed.beat(heartbeat('agent-node-1', [reading('GPU-agent-1-0', 0, { usedMiB: 1_000 })]));
    const registered = await eventually(async () => {
      const list = await bed.rpc.request(GpuNodesList, {}, platformOperator());
      const node = list.items.find((n) => n.name === 'agent-node-1');
      expect(node).toBeDefined();
      return node!;
    });
    expect(registered).toMatchObject({
      kubeNode: 'agent-node-1',
      source: 'dcgm-exporter',
      driverVersion: '535.183.01',
      state: 'healthy',
      routable: true,
    });
    expect(registered.gpus).toEqual([
      expect.objectContaining({ uuid: 'GPU-agent-1-0', totalMiB: 32_480, usedMiB: 1_000 }),
    ]);

    await bed.beat(heartbeat('agent-node-1', [reading('GPU-agent-1-0', 0, { usedMiB: 9_000 })]));
    await eventually(async () => {
      const node = await bed.rpc.request(GpuNodesGet, { id: registered.id }, platformOperator());
      expect(node.gpus[0]!.usedMiB).toBe(9_000);
    });
    const rows: { n: number }[] = await bed.ownerDb.query(
      `SELECT count(*)::int AS n FROM gpu.nodes WHERE name = 'agent-node-1'`,
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('never over-commits a GPU when two replicas place leases at once', async () => {
    const replica = await bed.startReplica();
    // two 16 GB cards: 16160 MiB each, 3000 + 400 (CUDA context) per lease: four fit a card
    await joinedNode('pack-1', [reading('GPU-pack-1-0', 0, { totalMiB: 16_160 })]);
    await joinedNode('pack-2', [reading('GPU-pack-2-0', 0, { totalMiB: 16_160 })]);
    const services = [leases(), replica.get(LeaseService)];
    const attempts = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        services[i % 2]!.create(tenantMember(tenantA), {
          vramMiB: 3_000,
          nodeLabels: { pool: 'pack' },
          ttlSeconds: 600,
          model: MODEL,
        }),
      ),
    );
    const granted = attempts.filter((a) => a.status === 'fulfilled');
    const refused = attempts.filter((a) => a.status === 'rejected');
    const held: { gpu: string; charged: number }[] = await bed.ownerDb.query(
      `SELECT gpu_uuid AS gpu, sum(charged_mib)::int AS charged FROM gpu.leases
        WHERE state = 'active' AND gpu_uuid LIKE 'GPU-pack-%' GROUP BY gpu_uuid ORDER BY 1`,
    );
    for (const { charged } of held) expect(charged).toBeLessThanOrEqual(16_160);
    expect(held.map((h) => h.charged)).toEqual([13_600, 13_600]);
    expect(granted.length + refused.length).toBe(20);
    for (const r of refused)
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: ErrorCode.Conflict });
    for (const lease of granted)
      await leases().release(
        tenantMember(tenantA),
        (lease as PromiseFulfilledResult<{ id: string }>).value.id,
      );
  });

  it('places leases while its nodes beat, neither waiting on the other into a deadlock', async () => {
    // the agent lists a node's cards in index order, which is not the order of their uuids
    const gpus = [reading('GPU-beat-1-b', 0), reading('GPU-beat-1-a', 1)];
    await joinedNode('beat-1', gpus);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 24 }, (_, i) =>
        i % 2
          ? health().heartbeat(heartbeat('beat-1', gpus))
          : leases().create(tenantMember(tenantA), {
              vramMiB: 1_000,
              nodeLabels: { pool: 'beat' },
              ttlSeconds: 600,
              model: MODEL,
            }),
      ),
    );
    const failed = outcomes.flatMap((o) =>
      o.status === 'rejected' ? [String((o.reason as Error).message)] : [],
    );
    // twelve leases of 1,400 MiB (with the CUDA context) fit two 32 GB cards: all are granted
    expect(failed).toEqual([]);
    for (const o of outcomes) {
      const lease = (o as PromiseFulfilledResult<{ id?: string; gpuUuid?: string }>).value;
      if (lease.gpuUuid) await leases().release(tenantMember(tenantA), lease.id!);
    }
  });

  it('expires a lease that is not renewed, tells its holder and meters its GPU-seconds once', async () => {
    const node = await joinedNode('expiry-1');
    const lease = await bed.rpc.request(
      GpuLeasesCreate,
      { vramMiB: 8_000, ttlSeconds: 30, nodeLabels: { pool: 'expiry' } },
      tenantMember(tenantA),
    );
    expect(lease).toMatchObject({ state: 'active', chargedMiB: 8_400 });

    clock.advance(20_000);
    const renewed = await bed.rpc.request(GpuLeasesRenew, { id: lease.id }, tenantMember(tenantA));
    expect(Date.parse(renewed.expiresAt)).toBe(clock.now().getTime() + 30_000);

    clock.advance(31_000);
    expect(await leases().expire()).toBeGreaterThanOrEqual(1);
    const expired = await bed.rpc.request(GpuLeasesGet, { id: lease.id }, tenantMember(tenantA));
    expect(expired).toMatchObject({ state: 'expired', endReason: 'not renewed in time' });
    await eventually(() =>
      expect(bed.leaseEvents).toContainEqual(
        expect.objectContaining({ leaseId: lease.id, state: 'expired', node: node.name }),
      ),
    );
    const renewAfter = await failure(
      bed.rpc.request(GpuLeasesRenew, { id: lease.id }, tenantMember(tenantA)),
    );
    expect(renewAfter.code).toBe(ErrorCode.InvalidState);
    // 51 s on 8400 of 32480 MiB: 13.2 GPU-seconds, rounded up
    await eventually(async () => {
      const reports = (await bed.usageReports()).filter(
        (u) => u.messageId === `gpu-lease:${lease.id}`,
      );
      expect(reports).toEqual([
        expect.objectContaining({ tenantId: tenantA, resource: 'gpuSeconds', amount: 14 }),
      ]);
    });
  });

  it('takes a node that stopped beating out of routing, loses its leases and tells their holders', async () => {
    const failing = await joinedNode('failover-1');
    const other = await joinedNode('failover-2');
    const lease = await leases().create(tenantMember(tenantA), {
      vramMiB: 30_000,
      ttlSeconds: 3_600,
      model: MODEL,
      nodeLabels: { pool: 'failover' },
    });
    const holderNode = lease.node;
    const survivor = holderNode === failing.name ? other : failing;

    // the other node keeps beating; the holder's node falls silent for three intervals
    clock.advance(3_100);
    await health().heartbeat(heartbeat(survivor.name, [reading(`GPU-${survivor.name}-0`, 0)]));
    await health().sweep();

    const gone = (await bed.rpc.request(GpuNodesList, {}, platformOperator())).items.find(
      (n) => n.name === holderNode,
    )!;
    expect(gone).toMatchObject({ state: 'offline', routable: false });
    const lost = await bed.rpc.request(GpuLeasesGet, { id: lease.id }, tenantMember(tenantA));
    expect(lost).toMatchObject({ state: 'lost' });
    expect(lost.endReason).toContain('offline');
    await eventually(() =>
      expect(bed.leaseEvents).toContainEqual(
        expect.objectContaining({ leaseId: lease.id, state: 'lost', node: holderNode }),
      ),
    );
    const renew = await failure(
      bed.rpc.request(GpuLeasesRenew, { id: lease.id }, tenantMember(tenantA)),
    );
    expect(renew).toMatchObject({ code: ErrorCode.InvalidState, details: { state: 'lost' } });
    for (let i = 0; i < 10; i++) {
      const route = await bed.rpc.request(GpuRoute, { model: MODEL, exclude: [] }, service());
      expect(route.node).not.toBe(holderNode);
    }

    // back after three healthy heartbeats in a row, not before
    for (let beat = 1; beat <= 3; beat++) {
      await health().heartbeat(heartbeat(holderNode, [reading(`GPU-${holderNode}-0`, 0)]));
      const node = await bed.rpc.request(GpuNodesGet, { id: gone.id }, platformOperator());
      expect(node.routable).toBe(beat === 3);
    }
  });

  it('routes by weight among healthy nodes, and gives the next node when a caller reports a failure', async () => {
    const a = await joinedNode('route-a');
    const b = await joinedNode('route-b');
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++)
      seen.add((await bed.rpc.request(GpuRoute, { model: MODEL, exclude: [] }, service())).node);
    expect([...seen]).toEqual(expect.arrayContaining([a.name, b.name]));

    const next = await bed.rpc.request(
      GpuRouteReportFailure,
      { model: MODEL, node: a.name, error: 'connection reset' },
      service(),
    );
    expect(next.node).not.toBe(a.name);
    expect(next.endpoint).toBe(endpoint(next.node));
    const afterReport = await bed.rpc.request(GpuNodesGet, { id: a.id }, platformOperator());
    expect(afterReport.callerErrorRate).toBeGreaterThan(0);
    expect(afterReport.score).toBeLessThan(a.score);

    const nobody = await failure(
      bed.rpc.request(GpuRoute, { model: 'no-such-model', exclude: [] }, service()),
    );
    expect(nobody.code).toBe(ErrorCode.Unavailable);
  });

  it('drains a node: out of routing and placement, its leases kept', async () => {
    const node = await joinedNode('drain-1', [reading('GPU-drain-1-0', 0, { totalMiB: 16_160 })]);
    const lease = await leases().create(tenantMember(tenantB), {
      vramMiB: 1_000,
      ttlSeconds: 600,
      nodeLabels: { pool: 'drain' },
    });
    const drained = await bed.rpc.request(GpuNodesDrain, { id: node.id }, platformOperator());
    expect(drained).toMatchObject({ state: 'draining', draining: true, routable: false });
    const stillHeld = await bed.rpc.request(GpuLeasesGet, { id: lease.id }, tenantMember(tenantB));
    expect(stillHeld.state).toBe('active');
    for (let i = 0; i < 6; i++)
      expect(
        (await bed.rpc.request(GpuRoute, { model: MODEL, exclude: [] }, service())).node,
      ).not.toBe(node.name);
    const refused = await failure(
      bed.rpc.request(GpuNodesDrain, { id: node.id }, tenantMember(tenantA)),
    );
    expect(refused.code).toBe(ErrorCode.Forbidden);
    await bed.rpc.request(GpuLeasesRelease, { id: lease.id }, tenantMember(tenantB));
  });

  it('keeps each tenant to its own leases', async () => {
    await joinedNode('tenancy-1');
    const mine = await bed.rpc.request(
      GpuLeasesCreate,
      { vramMiB: 2_000, ttlSeconds: 600, nodeLabels: { pool: 'tenancy' } },
      tenantMember(tenantA),
    );
    const hidden = await failure(
      bed.rpc.request(GpuLeasesGet, { id: mine.id }, tenantMember(tenantB)),
    );
    expect(hidden.code).toBe(ErrorCode.NotFound);
    const releaseOther = await failure(
      bed.rpc.request(GpuLeasesRelease, { id: mine.id }, tenantMember(tenantB)),
    );
    expect(releaseOther.code).toBe(ErrorCode.NotFound);
    const listB = await bed.rpc.request(GpuLeasesList, {}, tenantMember(tenantB));
    expect(listB.items.every((l) => l.tenantId === tenantB)).toBe(true);
    expect(listB.items.map((l) => l.id)).not.toContain(mine.id);
    const otherTenant = await failure(
      bed.rpc.request(GpuLeasesList, { tenantId: tenantA }, tenantMember(tenantB)),
    );
    expect(otherTenant.code).toBe(ErrorCode.NotFound);

    // as the runtime role, a query that forgets its filter still sees one tenant's leases
    const seen = await bed.runtimeDb.transaction(async (em) => {
      await em.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantB]);
      return em.query(`SELECT tenant_id AS "tenantId" FROM gpu.leases`) as Promise<
        { tenantId: string }[]
      >;
    });
    expect(seen.every((r) => r.tenantId === tenantB)).toBe(true);
    const unscoped: unknown[] = await bed.runtimeDb.query(`SELECT id FROM gpu.leases`);
    expect(unscoped).toEqual([]);
    await bed.rpc.request(GpuLeasesRelease, { id: mine.id }, tenantMember(tenantA));
  });

  it('answers bad input with typed errors and writes nothing', async () => {
    const before: { n: number }[] = await bed.ownerDb.query(
      `SELECT count(*)::int AS n FROM gpu.leases`,
    );
    const negative = await failure(
      bed.rpc.request(
        GpuLeasesCreate,
        { vramMiB: -1, ttlSeconds: 60 } as never,
        tenantMember(tenantA),
      ),
    );
    expect(negative.code).toBe(ErrorCode.ValidationFailed);
    const tooLarge = await failure(
      bed.rpc.request(GpuLeasesCreate, { vramMiB: 40_000, ttlSeconds: 60 }, tenantMember(tenantA)),
    );
    expect(tooLarge).toMatchObject({
      code: ErrorCode.ValidationFailed,
      details: { reason: 'too-large' },
    });
    const noLabel = await failure(
      bed.rpc.request(
        GpuLeasesCreate,
        { vramMiB: 1_000, ttlSeconds: 60, nodeLabels: { zone: 'mars-1' } },
        tenantMember(tenantA),
      ),
    );
    expect(noLabel.code).toBe(ErrorCode.NotFound);
    const badName = await failure(
      bed.rpc.request(GpuNodesRegister, { name: 'Bad Name!' } as never, platformOperator()),
    );
    expect(badName.code).toBe(ErrorCode.ValidationFailed);
    const serviceWithoutTenant = await failure(
      bed.rpc.request(GpuLeasesCreate, { vramMiB: 1_000, ttlSeconds: 60 }, service()),
    );
    expect(serviceWithoutTenant.code).toBe(ErrorCode.ValidationFailed);
    const after: { n: number }[] = await bed.ownerDb.query(
      `SELECT count(*)::int AS n FROM gpu.leases`,
    );
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it('answers the operator VRAM query for a workload from the registry and leases', async () => {
    await joinedNode('memory-1', [
      reading('GPU-memory-1-0', 0, { usedMiB: 30_000 }),
      reading('GPU-memory-1-1', 1, { usedMiB: 2_000 }),
    ]);
    const reply = await bed.rpc.request(
      GpuMemoryQuerySubject,
      { namespace: 'inference', workload: 'server-memory-1', kind: 'Deployment' },
      service(),
    );
    expect(reply.gpus).toEqual([
      expect.objectContaining({
        node: 'memory-1',
        uuid: 'GPU-memory-1-0',
        usedMiB: 30_000,
        freeMiB: 2_480,
      }),
      expect.objectContaining({
        node: 'memory-1',
        uuid: 'GPU-memory-1-1',
        usedMiB: 2_000,
        freeMiB: 30_480,
      }),
    ]);
    const none = await bed.rpc.request(
      GpuMemoryQuerySubject,
      { namespace: 'inference', workload: 'nobody', kind: 'Deployment' },
      service(),
    );
    expect(none.gpus).toEqual([]);

    // a workload that holds a lease reads the GPU its lease is on (memory-1's cards, busy
    // without leases, are unsettled: the lease goes to memory-2)
    await joinedNode('memory-2');
    const held = await leases().create(tenantMember(tenantB), {
      vramMiB: 1_000,
      ttlSeconds: 600,
      nodeLabels: { pool: 'memory' },
      holder: { namespace: 'inference', kind: 'Deployment', name: 'batch-embedder' },
    });
    const holder = await bed.rpc.request(
      GpuMemoryQuerySubject,
      { namespace: 'inference', workload: 'batch-embedder', kind: 'Deployment' },
      service(),
    );
    expect(held.node).toBe('memory-2');
    expect(holder.gpus.map((g) => g.uuid)).toEqual(['GPU-memory-2-0']);
    await leases().release(tenantMember(tenantB), held.id);
  });

  it('exports per-GPU and per-node gauges on /metrics', async () => {
    await joinedNode('metrics-1', [reading('GPU-metrics-1-0', 0, { usedMiB: 12_345 })]);
    const { port } = bed.app.getHttpServer().address() as AddressInfo;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toContain(
      'lattice_gpu_memory_used_mib{node="metrics-1",gpu="0",uuid="GPU-metrics-1-0",model="Tesla V100-SXM2-32GB"} 12345',
    );
    expect(text).toContain(
      'lattice_gpu_memory_free_mib{node="metrics-1",gpu="0",uuid="GPU-metrics-1-0",model="Tesla V100-SXM2-32GB"} 20135',
    );
    expect(text).toContain('lattice_gpu_node_state{node="metrics-1",state="healthy"} 1');
    expect(text).toContain('lattice_gpu_node_state{node="metrics-1",state="offline"} 0');
    expect(text).toContain('lattice_gpu_node_routable{node="metrics-1"} 1');
    expect(text).toMatch(
      /lattice_gpu_node_health_score\{node="metrics-1"\} 0\.\d+|lattice_gpu_node_health_score\{node="metrics-1"\} 1/,
    );
  });
});
