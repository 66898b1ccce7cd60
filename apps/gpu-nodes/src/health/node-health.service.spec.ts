import { randomUUID } from 'node:crypto';
import { TenantScope } from '@lattice/database';
import { Clock, LOGGER } from '@lattice/service-runtime';
import { ManualClock, createTestBed, provide, strictMock, type StrictMock } from '@lattice/testing';
import { EntityManager } from 'typeorm';
import type { GpuNodeHeartbeat, GpuReading } from '@lattice/contracts';
import { LeaseEndings } from '../leases/lease-endings';
import { LeaseRepository, type LeaseRow } from '../leases/lease.repository';
import { NodeRepository, type NodeRow } from '../registry/node.repository';
import { HEALTH_SETTINGS, NodeHealthService } from './node-health.service';

const NOW = new Date('2026-12-01T12:00:00Z');
const silent = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };

const reading = (overrides: Partial<GpuReading> = {}): GpuReading => ({
  uuid: 'GPU-1',
  index: 0,
  model: 'Tesla V100-SXM2-16GB',
  pciBusId: null,
  totalMiB: 16_160,
  usedMiB: 0,
  freeMiB: 16_160,
  reservedMiB: 0,
  utilizationPercent: 10,
  temperatureC: 40,
  slowdownTemperatureC: 87,
  powerWatts: 40,
  lastXid: 0,
  eccUncorrectable: 0,
  remappedRowsUncorrectable: 0,
  rowRemapFailed: false,
  lost: false,
  ...overrides,
});

const beat = (gpus: GpuReading[]): GpuNodeHeartbeat => ({
  node: 'n-1',
  kubeNode: null,
  source: 'nvidia-smi',
  driverVersion: '535.183.01',
  sampledAt: NOW.toISOString(),
  intervalMs: 1_000,
  gpus,
  sourceError: null,
});

const known = (overrides: Partial<NodeRow> = {}): NodeRow => ({
  id: randomUUID(),
  name: 'n-1',
  kubeNode: null,
  labels: {},
  serves: [],
  state: 'healthy',
  health: 'healthy',
  rejoinIn: 0,
  score: 1,
  cordoned: false,
  draining: false,
  source: 'nvidia-smi',
  driverVersion: null,
  sourceError: null,
  intervalMs: 1_000,
  callerCalls: 0,
  callerFailures: 0,
  callerWindowStartedAt: NOW,
  lastHeartbeatAt: NOW,
  registeredAt: NOW,
  updatedAt: NOW,
  ...overrides,
});

describe(NodeHealthService.name, () => {
  let sut: NodeHealthService;
  let clock: ManualClock;
  let nodes: StrictMock<NodeRepository>;
  let leases: StrictMock<LeaseRepository>;
  let endings: StrictMock<LeaseEndings>;

  beforeEach(() => {
    clock = new ManualClock(NOW);
    const bed = createTestBed(NodeHealthService, [
      provide(Clock, clock),
      provide(HEALTH_SETTINGS, { health: {}, callerWindowMs: 60_000, defaultIntervalMs: 5_000 }),
      provide(LOGGER, silent),
    ]);
    sut = bed.sut;
    const em = strictMock(EntityManager);
    bed.mocks.get(TenantScope).runForDispatch.mockImplementation((work) => work(em));
    nodes = bed.mocks.get(NodeRepository);
    leases = bed.mocks.get(LeaseRepository);
    endings = bed.mocks.get(LeaseEndings);
    endings.announce.mockReturnValue(undefined);
    nodes.ensure.mockResolvedValue(false);
    nodes.beat.mockResolvedValue(undefined);
    nodes.saveReadings.mockResolvedValue(undefined);
    nodes.setHealth.mockImplementation(async (_em, id, change) => ({
      ...known({ id }),
      ...change,
    }));
  });

  it('keeps a healthy node in routing on a good heartbeat, holding its leases', async () => {
    nodes.byName.mockResolvedValue(known());
    leases.activeOnNode.mockResolvedValue([]);
    const outcome = await sut.heartbeat(beat([reading()]));
    expect(outcome.node.state).toBe('healthy');
    expect(outcome.left).toBe(false);
    expect(leases.activeOnNode).not.toHaveBeenCalled();
  });

  it('takes a node whose GPU fell off the bus out at once and loses its leases', async () => {
    const node = known();
    nodes.byName.mockResolvedValue(node);
    const held = { id: randomUUID(), state: 'active' } as LeaseRow;
    leases.activeOnNode.mockResolvedValue([held]);
    endings.end.mockResolvedValue({ ...held, state: 'lost' });
    const outcome = await sut.heartbeat(beat([reading({ lost: true })]));
    expect(outcome.node.state).toBe('unhealthy');
    expect(outcome.left).toBe(true);
    expect(endings.end).toHaveBeenCalledWith(
      expect.anything(),
      held.id,
      'lost',
      NOW,
      'node n-1 is unhealthy',
    );
    expect(endings.announce).toHaveBeenCalledWith([expect.objectContaining({ state: 'lost' })]);
  });

  it('sweeps a node that stopped beating offline, and never rejoins it on the sweep alone', async () => {
    const silentNode = known({ lastHeartbeatAt: new Date(NOW.getTime() - 3_500) });
    nodes.late.mockResolvedValue([silentNode]);
    nodes.gpusOf.mockResolvedValue([]);
    leases.activeOnNode.mockResolvedValue([]);
    const [outcome] = await sut.sweep();
    expect(outcome).toMatchObject({ node: { state: 'offline' }, left: true });
  });

  it('counts a caller failure against the node at once', async () => {
    const node = known({ callerCalls: 40, callerFailures: 9 });
    nodes.byName.mockResolvedValue(node);
    nodes.addCallerFailure.mockResolvedValue({ ...node, callerFailures: 10 });
    nodes.gpusOf.mockResolvedValue([]);
    leases.activeOnNode.mockResolvedValue([]);
    const outcome = await sut.callerFailure('n-1');
    // a quarter of its calls failed: half its score goes (the error rate counts twice)
    expect(outcome!.node.score).toBeLessThan(0.6);
  });
});
