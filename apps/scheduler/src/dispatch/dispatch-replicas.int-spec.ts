import type { INestApplication } from '@nestjs/common';
import { SchedulerJobsSubmit, type QueueView } from '@lattice/contracts';
import { DispatchService } from './dispatch.service';
import {
  startSchedulerTestBed,
  tenantMember,
  worker,
  type SchedulerTestBed,
} from '../../test/scheduler.test-bed';

// each file starts the tenants (or scheduler) service from the build, and a busy machine is slow
jest.setTimeout(60_000);

const JOBS_PER_TENANT = 150;
const WORKERS_PER_REPLICA = 4;

/** Runs the calls a few at a time, as a busy machine answers them within their timeout. */
async function inLanes(calls: (() => Promise<unknown>)[], lanes = 16): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < calls.length) await calls[next++]!();
    }),
  );
}

/** Two scheduler replicas on one database, leasing one queue at once. */
describe('two scheduler replicas', () => {
  let bed: SchedulerTestBed;
  let replica: INestApplication;
  let queue: QueueView;
  let tenants: string[];

  beforeAll(async () => {
    bed = await startSchedulerTestBed();
    replica = await bed.startReplica();
    queue = await bed.newQueue({ maxTenantShare: 0.5 });
    tenants = [await bed.newTenant('enterprise'), await bed.newTenant('professional')];
    await inLanes(
      tenants.flatMap((tenantId) =>
        Array.from(
          { length: JOBS_PER_TENANT },
          (_, i) => () =>
            bed.rpc.request(
              SchedulerJobsSubmit,
              { queue: queue.name, type: 'load', payload: { i }, priority: 'batch' },
              tenantMember(tenantId),
            ),
        ),
      ),
    );
  });
  afterAll(() => bed?.close());

  it('never lease one job twice, however their workers race', async () => {
    const replicas = [bed.app.get(DispatchService), replica.get(DispatchService)];
    const leasedBy = new Map<string, string[]>();
    const total = tenants.length * JOBS_PER_TENANT;
    let completed = 0;

    const runWorker = async (service: DispatchService, workerId: string) => {
      await service.register(worker(), { workerId, queue: queue.name, concurrency: 8 });
      // until every job is done: an empty lease only means the tenants' caps are held for now
      while (completed < total) {
        const { jobs } = await service.lease(worker(), { workerId, queue: queue.name, max: 8 });
        if (jobs.length === 0) await new Promise((r) => setTimeout(r, 20));
        for (const job of jobs) {
          leasedBy.set(job.id, [...(leasedBy.get(job.id) ?? []), workerId]);
          await service.start(worker(), { workerId, jobId: job.id });
          await service.complete(worker(), { workerId, jobId: job.id });
          completed += 1;
        }
      }
    };

    await Promise.all(
      replicas.flatMap((service, r) =>
        Array.from({ length: WORKERS_PER_REPLICA }, (_, w) => runWorker(service, `r${r}-w${w}`)),
      ),
    );

    const doubled = [...leasedBy].filter(([, by]) => by.length > 1);
    expect(doubled).toEqual([]);
    expect(leasedBy.size).toBe(tenants.length * JOBS_PER_TENANT);
    // both replicas did some of the work
    const byReplica = new Set([...leasedBy.values()].map((by) => by[0]!.slice(0, 2)));
    expect(byReplica).toEqual(new Set(['r0', 'r1']));

    // and the database agrees: every job succeeded after exactly one lease
    const rows: { state: string; leases: number; n: number }[] = await bed.ownerDb.query(
      `SELECT j.state, count(t.id)::int AS leases, count(DISTINCT j.id)::int AS n
         FROM scheduler.jobs j
         JOIN scheduler.job_transitions t ON t.job_id = j.id AND t.to_state = 'leased'
        WHERE j.queue = $1
        GROUP BY j.state`,
      [queue.name],
    );
    expect(rows).toEqual([
      {
        state: 'succeeded',
        leases: tenants.length * JOBS_PER_TENANT,
        n: tenants.length * JOBS_PER_TENANT,
      },
    ]);
  });

  it('hold a tenant to its plan concurrentJobs when both lease for it at the same moment', async () => {
    // the cap spans queues: workers of two queues, on both replicas, each see the tenant hold
    // nothing and pick different jobs, so only the lease itself can keep the cap
    const queues = [
      await bed.newQueue({ maxTenantShare: 1 }),
      await bed.newQueue({ maxTenantShare: 1 }),
    ];
    const starter = await bed.newTenant('starter'); // concurrentJobs 2
    const CAP = 2;
    const ROUNDS = 6;
    await inLanes(
      queues.flatMap((q) =>
        Array.from(
          { length: CAP * ROUNDS },
          (_, i) => () =>
            bed.rpc.request(
              SchedulerJobsSubmit,
              { queue: q.name, type: 'capped', payload: { i } },
              tenantMember(starter),
            ),
        ),
      ),
    );
    const replicas = [bed.app.get(DispatchService), replica.get(DispatchService)];
    const workers = replicas.flatMap((service, r) =>
      queues.flatMap((q, n) =>
        Array.from({ length: 2 }, (_, w) => ({
          service,
          queue: q.name,
          id: `cap-r${r}-q${n}-w${w}`,
        })),
      ),
    );
    for (const w of workers)
      await w.service.register(worker(), { workerId: w.id, queue: w.queue, concurrency: 4 });

    const heldAfterRound: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // every worker of both replicas asks at once, while the tenant holds nothing
      const leased = await Promise.all(
        workers.map(async (w) => ({
          w,
          jobs: (await w.service.lease(worker(), { workerId: w.id, queue: w.queue, max: 4 })).jobs,
        })),
      );
      const [{ n }] = await bed.ownerDb.query(
        `SELECT count(*)::int AS n FROM scheduler.jobs
          WHERE tenant_id = $1 AND state IN ('leased', 'running')`,
        [starter],
      );
      heldAfterRound.push(n);
      for (const { w, jobs } of leased)
        for (const job of jobs) {
          await w.service.start(worker(), { workerId: w.id, jobId: job.id });
          await w.service.complete(worker(), { workerId: w.id, jobId: job.id });
        }
    }
    // the cap is met each round, and never passed
    expect(heldAfterRound).toEqual(Array.from({ length: ROUNDS }, () => CAP));
  });
});
