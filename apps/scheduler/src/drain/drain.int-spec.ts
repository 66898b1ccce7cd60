import {
  ErrorCode,
  SchedulerJobsComplete,
  SchedulerJobsHeartbeat,
  SchedulerJobsLease,
  SchedulerJobsStart,
  SchedulerJobsSubmit,
  SchedulerWorkersDrain,
  SchedulerWorkersDrainState,
  SchedulerWorkersRegister,
  SchedulerWorkersUndrain,
  type DrainWorkersRequest,
  type QueueView,
} from '@lattice/contracts';
import { serviceContext } from '@lattice/request-context';
import { ManualClock, eventually, failure } from '@lattice/testing';
import {
  startSchedulerTestBed,
  tenantMember,
  worker,
  type SchedulerTestBed,
} from '../../test/scheduler.test-bed';
import { DrainService } from './drain.service';

// each file starts the tenants service from the build, and a busy machine is slow
jest.setTimeout(60_000);

const operator = () => serviceContext('operator');

describe('draining workers before scale-in', () => {
  let bed: SchedulerTestBed;
  const clock = new ManualClock(new Date('2026-03-01T12:00:00Z'));
  let tenant: string;
  let queue: QueueView;
  let pods: string[];

  const inAnHour = () => new Date(clock.now().getTime() + 3_600_000).toISOString();
  const register = (workerId: string, concurrency = 4) =>
    bed.rpc.request(SchedulerWorkersRegister, { workerId, queue: queue.name, concurrency }, worker());
  const lease = (workerId: string, max = 10) =>
    bed.rpc.request(SchedulerJobsLease, { workerId, queue: queue.name, max }, worker());
  const submit = (count: number) =>
    Promise.all(
      Array.from({ length: count }, () =>
        bed.rpc.request(
          SchedulerJobsSubmit,
          { queue: queue.name, type: 'echo' },
          tenantMember(tenant),
        ),
      ),
    );
  const drain = (request: Partial<DrainWorkersRequest>) =>
    bed.rpc.request(
      SchedulerWorkersDrain,
      { queue: queue.name, drain: [], expiresAt: inAnHour(), ...request },
      operator(),
    );
  const state = (workers: string[]) =>
    bed.rpc.request(SchedulerWorkersDrainState, { workers }, operator());
  const finish = async (workerId: string, jobId: string) => {
    await bed.rpc.request(SchedulerJobsStart, { workerId, jobId }, worker());
    await bed.rpc.request(SchedulerJobsComplete, { workerId, jobId }, worker());
  };

  beforeAll(async () => {
    bed = await startSchedulerTestBed({ clock });
    tenant = await bed.newTenant('enterprise');
  });
  afterAll(() => bed?.close());

  beforeEach(async () => {
    queue = await bed.newQueue();
    const prefix = queue.name.slice(2);
    pods = ['a', 'b', 'c'].map((p) => `workers-${prefix}-${p}`);
  });

  it('drains the workers holding the least work: they lease nothing more but keep and finish what they hold', async () => {
    const [busy, light, idle] = pods;
    for (const pod of pods) await register(pod);
    await submit(3);
    expect((await lease(busy, 2)).jobs).toHaveLength(2);
    const [held] = (await lease(light, 1)).jobs;

    const { workers } = await drain({ pick: { from: pods, count: 2 } });
    expect(workers.map((w) => [w.workerId, w.heldJobs, w.draining])).toEqual(
      [
        [light, 1, true],
        [idle, 0, true],
      ].sort(),
    );
    expect(workers.every((w) => w.registered && w.drainStartedAt !== null)).toBe(true);

    // the last queued job goes to the worker left serving, never to a drained one
    await submit(1);
    expect((await lease(idle)).jobs).toEqual([]);
    expect((await lease(light)).jobs).toEqual([]);
    const beat = await bed.rpc.request(
      SchedulerJobsHeartbeat,
      { workerId: light, jobIds: [held.id] },
      worker(),
    );
    expect(beat).toMatchObject({ held: [held.id], stop: [], draining: true });
    expect((await lease(busy)).jobs).toHaveLength(1);

    await finish(light, held.id);
    expect((await state([light, idle, busy])).workers).toEqual([
      expect.objectContaining({ workerId: light, draining: true, heldJobs: 0 }),
      expect.objectContaining({ workerId: idle, draining: true, heldJobs: 0 }),
      expect.objectContaining({ workerId: busy, draining: false, heldJobs: 3 }),
    ]);
    await eventually(async () =>
      expect(
        (await bed.auditEvents()).filter(
          (e) => e.action === 'worker.drain' && pods.includes(e.resource.id ?? ''),
        ),
      ).toHaveLength(2),
    );
  });

  it('drains every worker it is told to, whatever they hold, and picks the rest among the others', async () => {
    const [busy, light, idle] = pods;
    for (const pod of pods) await register(pod);
    await submit(3);
    await lease(busy, 2);
    await lease(light, 1);
    const { workers } = await drain({ drain: [busy], pick: { from: [light, idle], count: 1 } });
    expect(workers.map((w) => w.workerId).sort()).toEqual([busy, idle].sort());
  });

  it('picks the same workers again when a drain is asked twice', async () => {
    for (const pod of pods) await register(pod);
    const first = await drain({ pick: { from: pods, count: 1 } });
    const again = await drain({ pick: { from: pods, count: 1 } });
    expect(again.workers.map((w) => w.workerId)).toEqual(first.workers.map((w) => w.workerId));
    expect(again.workers[0].drainStartedAt).toBe(first.workers[0].drainStartedAt);
  });

  it('counts a pod that never registered as holding nothing, and keeps it drained when it registers', async () => {
    const [busy, , fresh] = pods;
    await register(busy);
    await submit(1);
    await lease(busy);
    const { workers } = await drain({ pick: { from: [busy, fresh], count: 1 } });
    expect(workers).toEqual([
      expect.objectContaining({ workerId: fresh, registered: false, draining: true, heldJobs: 0 }),
    ]);
    const view = await register(fresh);
    expect(view.draining).toBe(true);
    await submit(1);
    expect((await lease(fresh)).jobs).toEqual([]);
    expect((await state([fresh])).workers[0]).toMatchObject({ registered: true, draining: true });
  });

  it('undoes a drain: the workers lease again, and a name that never registered is forgotten', async () => {
    const [worker1, , never] = pods;
    await register(worker1);
    await drain({ drain: [worker1, never] });
    const undone = await bed.rpc.request(
      SchedulerWorkersUndrain,
      { workers: [worker1, never] },
      operator(),
    );
    expect(undone.workers).toEqual([
      expect.objectContaining({ workerId: worker1, registered: true, draining: false }),
      expect.objectContaining({ workerId: never, registered: false, draining: false }),
    ]);
    await submit(1);
    expect((await lease(worker1)).jobs).toHaveLength(1);
    expect((await register(never)).draining).toBe(false);
    await eventually(async () =>
      expect(
        (await bed.auditEvents())
          .filter((e) => e.action === 'worker.undrain')
          .map((e) => e.resource.id),
      ).toEqual(expect.arrayContaining([worker1, never])),
    );
  });

  it('lets a drain lapse at the time the operator gave, so a pod that stayed goes back to work', async () => {
    const [kept] = pods;
    await register(kept);
    const expiresAt = new Date(clock.now().getTime() + 60_000).toISOString();
    await drain({ drain: [kept], expiresAt });
    await submit(1);
    const lapse = bed.app.get(DrainService);
    expect(await lapse.lapse()).toBe(0);
    expect((await lease(kept)).jobs).toEqual([]);
    clock.advance(61_000);
    expect(await lapse.lapse()).toBeGreaterThanOrEqual(1);
    expect((await lease(kept)).jobs).toHaveLength(1);
  });

  it('refuses any caller but the operator, a queue that does not exist and a drain that has already lapsed', async () => {
    const request = { queue: queue.name, drain: [pods[0]], expiresAt: inAnHour() };
    expect((await failure(bed.rpc.request(SchedulerWorkersDrain, request, worker()))).code).toBe(
      ErrorCode.Forbidden,
    );
    expect(
      (await failure(bed.rpc.request(SchedulerWorkersDrain, request, tenantMember(tenant)))).code,
    ).toBe(ErrorCode.Forbidden);
    expect(
      (await failure(bed.rpc.request(SchedulerWorkersDrainState, { workers: pods }, worker())))
        .code,
    ).toBe(ErrorCode.Forbidden);
    expect((await failure(drain({ queue: 'no-such-queue', drain: [pods[0]] }))).code).toBe(
      ErrorCode.NotFound,
    );
    const past = new Date(clock.now().getTime() - 1).toISOString();
    expect((await failure(drain({ drain: [pods[0]], expiresAt: past }))).code).toBe(
      ErrorCode.ValidationFailed,
    );
    expect((await failure(drain({ pick: { from: [pods[0]], count: 2 } }))).code).toBe(
      ErrorCode.ValidationFailed,
    );
    expect((await failure(drain({}))).code).toBe(ErrorCode.ValidationFailed);
    // nothing was drained by the refused calls
    expect((await state(pods)).workers.every((w) => !w.draining)).toBe(true);
  });
});
