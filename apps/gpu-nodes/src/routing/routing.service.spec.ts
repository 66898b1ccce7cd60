import { randomUUID } from 'node:crypto';
import { ErrorCode } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { serviceContext, type RequestContext } from '@lattice/request-context';
import { createTestBed, failure, strictMock, type StrictMock } from '@lattice/testing';
import { EntityManager } from 'typeorm';
import { NodeHealthService } from '../health/node-health.service';
import { NodeRepository, type RoutableNode } from '../registry/node.repository';
import { RoutingService } from './routing.service';

const MODEL = 'llama-3-8b';
const routable = (name: string, score: number, freeMiB = 32_480): RoutableNode => ({
  id: randomUUID(),
  name,
  score,
  serves: [{ model: MODEL, endpoint: `http://${name}:8000/v1` }],
  freeMiB,
  totalMiB: 32_480,
});
const worker = () => serviceContext('inference-worker');

describe(RoutingService.name, () => {
  let sut: RoutingService;
  let nodes: StrictMock<NodeRepository>;
  let health: StrictMock<NodeHealthService>;

  beforeEach(() => {
    const bed = createTestBed(RoutingService);
    sut = bed.sut;
    const em = strictMock(EntityManager);
    bed.mocks.get(TenantScope).runForDispatch.mockImplementation((work) => work(em));
    nodes = bed.mocks.get(NodeRepository);
    health = bed.mocks.get(NodeHealthService);
  });

  it('spreads calls by weight: a node with twice the health gets about twice the calls', async () => {
    nodes.routable.mockResolvedValue([routable('a', 1), routable('b', 0.5)]);
    const counts = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const { node } = await sut.route(worker(), { model: MODEL, exclude: [] });
      counts.set(node, (counts.get(node) ?? 0) + 1);
    }
    expect(counts.get('a')).toBe(200);
    expect(counts.get('b')).toBe(100);
  });

  it('gives the next node after a failure, counting it against the node that failed', async () => {
    nodes.routable.mockResolvedValue([routable('a', 1), routable('b', 1)]);
    health.callerFailure.mockResolvedValue(null);
    for (let i = 0; i < 5; i++) {
      const next = await sut.reportFailure(worker(), { model: MODEL, node: 'a', exclude: [] });
      expect(next).toMatchObject({ node: 'b', endpoint: 'http://b:8000/v1' });
    }
    expect(health.callerFailure).toHaveBeenCalledWith('a');
    const none = await failure(
      sut.reportFailure(worker(), { model: MODEL, node: 'a', exclude: ['b'] }),
    );
    expect(none.code).toBe(ErrorCode.Unavailable);
  });

  it('keeps routing to the services and platform operators', async () => {
    const tenant: RequestContext = {
      tenantId: randomUUID(),
      actor: { type: 'user', id: 'u', roles: ['tenant-admin'] },
      requestId: randomUUID(),
    };
    expect((await failure(sut.route(tenant, { model: MODEL, exclude: [] }))).code).toBe(
      ErrorCode.Forbidden,
    );
  });
});
