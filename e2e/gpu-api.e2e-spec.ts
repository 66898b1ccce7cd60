import { randomUUID } from 'node:crypto';
import { GpuAgentHeartbeat, type GpuReading } from '@lattice/contracts';
import { createLogger } from '@lattice/logging';
import { EventBus, SubjectNamespace, connectNats } from '@lattice/messaging';
import { eventually } from '@lattice/testing';
import { startE2EPlatform, type E2EPlatform } from './support/platform.harness';

// the whole platform starts as processes, its simulated GPU pool with it
jest.setTimeout(180_000);

const MODEL = 'llama-3-8b-instruct';

/** A V100 32 GB (32480 MiB) as an agent reads it. */
const v100 = (uuid: string, index: number, usedMiB: number): GpuReading => ({
  uuid,
  index,
  model: 'Tesla V100-SXM2-32GB',
  pciBusId: null,
  totalMiB: 32_480,
  usedMiB,
  freeMiB: 32_480 - usedMiB,
  reservedMiB: 0,
  utilizationPercent: 35,
  temperatureC: 52,
  slowdownTemperatureC: 87,
  powerWatts: 120,
  lastXid: 0,
  eccUncorrectable: 0,
  remappedRowsUncorrectable: 0,
  rowRemapFailed: false,
  lost: false,
});

describe('GPU API through the gateway', () => {
  let platform: E2EPlatform;
  const password = 'a-password-long-enough';
  const node = `e2e-gpu-${randomUUID().slice(0, 8)}`;
  let alice: string;
  let bob: string;

  async function tenantAdmin(): Promise<string> {
    const slug = `gpu-${randomUUID().slice(0, 8)}`;
    const tenant = await platform.call('/v1/tenants', {
      method: 'POST',
      json: { slug, name: slug, plan: 'professional' },
    });
    expect(tenant.status).toBe(201);
    const email = `admin-${randomUUID().slice(0, 6)}@example.com`;
    const user = await platform.call('/v1/users', {
      method: 'POST',
      json: { tenantId: (await tenant.json()).id, email, password, roles: ['tenant-admin'] },
    });
    expect(user.status).toBe(201);
    return (await platform.login(slug, email, password)).accessToken;
  }

  /** The node's agent: one heartbeat over NATS, as the real agent sends it. */
  async function beat(usedMiB: number): Promise<void> {
    const nc = await connectNats(
      platform.natsUrl,
      'e2e-gpu-agent',
      platform.natsCredentialsOf('gpu-agent'),
    );
    const bus = new EventBus(
      nc,
      new SubjectNamespace(platform.namespace),
      createLogger('e2e', 'silent'),
    );
    bus.publish(GpuAgentHeartbeat, {
      node,
      kubeNode: node,
      source: 'dcgm-exporter',
      driverVersion: '535.183.01',
      sampledAt: new Date().toISOString(),
      // long, so the node stays in routing however slow the run
      intervalMs: 3_600_000,
      gpus: [v100(`GPU-${node}-0`, 0, usedMiB), v100(`GPU-${node}-1`, 1, 0)],
      sourceError: null,
    });
    await nc.drain();
  }

  beforeAll(async () => {
    platform = await startE2EPlatform();
    [alice, bob] = [await tenantAdmin(), await tenantAdmin()];
  });
  afterAll(() => platform?.stop());

  it('shows operators the fleet an agent registered', async () => {
    const registered = await platform.call('/v1/gpu/nodes', {
      method: 'POST',
      json: { name: node, serves: [{ model: MODEL, endpoint: `http://${node}:8000/v1` }] },
    });
    expect(registered.status).toBe(201);
    const { id } = await registered.json();
    expect(registered.headers.get('location')).toBe(`/v1/gpu/nodes/${id}`);
    await beat(4_000);

    const seen = await eventually(async () => {
      const response = await platform.call(`/v1/gpu/nodes/${id}`);
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(body).toMatchObject({ name: node, state: 'healthy', routable: true });
      return body;
    });
    expect(seen.gpus).toEqual([
      expect.objectContaining({ index: 0, totalMiB: 32_480, usedMiB: 4_000, freeMiB: 28_480 }),
      expect.objectContaining({ index: 1, usedMiB: 0 }),
    ]);
    const list = await (await platform.call('/v1/gpu/nodes')).json();
    expect(list.items.map((n: { name: string }) => n.name)).toContain(node);

    // the platform also runs its simulated node pool: the figures include it
    const status = await (await platform.call('/v1/gpu/status')).json();
    expect(status.nodes.byState.healthy).toBeGreaterThanOrEqual(1);
    const v100s = status.models.find((m: { model: string }) => m.model === 'Tesla V100-SXM2-32GB');
    expect(v100s.gpus).toBeGreaterThanOrEqual(2);
    expect(v100s.usedMiB).toBeGreaterThanOrEqual(4_000);
    expect(v100s.totalMiB).toBe(v100s.gpus * 32_480);

    const cluster = await (await platform.call('/v1/cluster/status')).json();
    expect(cluster.services).toContainEqual(
      expect.objectContaining({ service: 'gpu-nodes', status: 'up' }),
    );
    expect(cluster.gpu.gpus.total).toBeGreaterThanOrEqual(2);

    // a tenant sees none of it
    expect((await platform.call('/v1/gpu/nodes', { token: alice })).status).toBe(403);
    expect((await platform.call('/v1/cluster/status', { token: alice })).status).toBe(403);
    const missing = await platform.call(`/v1/gpu/nodes/${randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it('leases VRAM to a tenant, hides it from another, releases it, and places none on a drained node', async () => {
    const response = await platform.call('/v1/gpu/leases', {
      method: 'POST',
      token: alice,
      json: { vramMiB: 10_000, ttlSeconds: 120, model: MODEL },
    });
    expect(response.status).toBe(201);
    const lease = await response.json();
    expect(lease).toMatchObject({ state: 'active', node, vramMiB: 10_000, chargedMiB: 10_400 });
    expect(response.headers.get('location')).toBe(`/v1/gpu/leases/${lease.id}`);

    const theirs = await platform.call(`/v1/gpu/leases/${lease.id}`, {
      method: 'DELETE',
      token: bob,
    });
    expect(theirs.status).toBe(404);

    const released = await platform.call(`/v1/gpu/leases/${lease.id}`, {
      method: 'DELETE',
      token: alice,
    });
    expect(released.status).toBe(200);
    expect(await released.json()).toMatchObject({ id: lease.id, state: 'released' });

    const nodes = await (await platform.call('/v1/gpu/nodes')).json();
    const { id } = nodes.items.find((n: { name: string }) => n.name === node);
    const drained = await platform.call(`/v1/gpu/nodes/${id}/drain`, { method: 'POST' });
    expect(drained.status).toBe(200);
    expect(await drained.json()).toMatchObject({ state: 'draining', routable: false });
    const refused = await platform.call('/v1/gpu/leases', {
      method: 'POST',
      token: alice,
      json: { vramMiB: 1_000, ttlSeconds: 120, model: MODEL },
    });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ reason: 'no-eligible-gpu' });
    expect(
      (await platform.call(`/v1/gpu/nodes/${id}/drain`, { method: 'POST', token: alice })).status,
    ).toBe(403);
  });

  it('answers bad lease requests with problem+json and a 4xx', async () => {
    const negative = await platform.call('/v1/gpu/leases', {
      method: 'POST',
      token: alice,
      json: { vramMiB: -5 },
    });
    expect(negative.status).toBe(400);
    expect(negative.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const huge = await platform.call('/v1/gpu/leases', {
      method: 'POST',
      token: alice,
      json: { vramMiB: 200_000, ttlSeconds: 60 },
    });
    expect(huge.status).toBe(400);
    const notAnId = await platform.call('/v1/gpu/leases/not-a-uuid', {
      method: 'DELETE',
      token: alice,
    });
    expect(notAnId.status).toBe(400);
  });
});
