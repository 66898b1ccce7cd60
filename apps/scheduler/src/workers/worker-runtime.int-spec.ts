import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  SchedulerJobsCancel,
  SchedulerJobsGet,
  SchedulerJobsSubmit,
  TenantsUsage,
  UsageReports,
  UsageStream,
  type QueueView,
  type SubmitJobRequest,
} from '@lattice/contracts';
import { createLogger } from '@lattice/logging';
import { JetStreamPublisher } from '@lattice/messaging';
import { ContextSigner, serviceContext } from '@lattice/request-context';
import { eventually, failure, testContextEnv } from '@lattice/testing';
import {
  JobAbortedError,
  PermanentJobError,
  createWorker,
  type JobHandler,
  type Worker,
  type WorkerEvent,
} from '@lattice/worker';
import {
  startSchedulerTestBed,
  tenantMember,
  type SchedulerTestBed,
} from '../../test/scheduler.test-bed';

// each file starts the tenants service from the build, and a busy machine is slow
jest.setTimeout(60_000);

/** The worker runtime (`@lattice/worker`) against the real scheduler, tenants service and NATS. */
describe('worker runtime against the scheduler', () => {
  let bed: SchedulerTestBed;
  let queue: QueueView;
  const workers: Worker[] = [];
  const logger = createLogger('worker-test', 'silent');

  const submit = (tenantId: string, body: Partial<SubmitJobRequest> = {}) =>
    bed.rpc.request(
      SchedulerJobsSubmit,
      { queue: queue.name, type: 'echo', payload: { n: 1 }, ...body },
      tenantMember(tenantId),
    );
  const get = (tenantId: string, id: string) =>
    bed.rpc.request(SchedulerJobsGet, { id }, tenantMember(tenantId));
  const startWorker = async (
    handlers: Record<string, JobHandler>,
    options: {
      concurrency?: number;
      heartbeatMs?: number;
      on?: QueueView;
      events?: WorkerEvent[];
    } = {},
  ) => {
    const worker = createWorker({
      nats: bed.nats,
      namespace: bed.config.LATTICE_NAMESPACE,
      signer: ContextSigner.fromConfig('job-worker', testContextEnv('job-worker')),
      queue: (options.on ?? queue).name,
      concurrency: options.concurrency ?? 4,
      handlers,
      workerId: `w-${randomUUID().slice(0, 8)}`,
      pollMs: 200,
      heartbeatMs: options.heartbeatMs,
      signals: [],
      logger,
      onEvent: (e) => options.events?.push(e),
    });
    workers.push(worker);
    await worker.start();
    return worker;
  };
  const transitionsOf = async (id: string): Promise<string[]> =>
    (
      (await bed.ownerDb.query(
        `SELECT from_state, to_state, attempt FROM scheduler.job_transitions
          WHERE job_id = $1 ORDER BY id`,
        [id],
      )) as { from_state: string | null; to_state: string; attempt: number }[]
    ).map((t) => `${t.from_state ?? '-'}>${t.to_state}@${t.attempt}`);
  const gpuSecondsUsed = async (tenantId: string) =>
    (await bed.rpc.request(TenantsUsage, { tenantId }, serviceContext('test'))).usage.find(
      (u) => u.resource === 'gpuSeconds',
    )!.used;

  /** Waits until the tenants service has acknowledged everything in USAGE. */
  const usageConsumerCaughtUp = async () => {
    const jsm = await bed.nats.jetstreamManager();
    const stream = bed.ns.stream(UsageStream.name);
    const last = (await jsm.streams.info(stream)).state.last_seq;
    await eventually(async () => {
      const info = await jsm.consumers.info(stream, bed.ns.durable('tenants-usage'));
      expect(info.ack_floor.stream_seq).toBeGreaterThanOrEqual(last);
      expect(info.num_ack_pending).toBe(0);
      expect(info.num_pending).toBe(0);
    });
  };

  beforeAll(async () => {
    bed = await startSchedulerTestBed({ env: { SCHEDULER_PLAN_CACHE_SECONDS: '0' } });
  });
  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    await bed?.close();
  });
  beforeEach(async () => {
    queue = await bed.newQueue();
  });

  it('runs jobs to success with their results, and fails a permanent error at once', async () => {
    const tenant = await bed.newTenant('professional');
    const jobs = await Promise.all([1, 2, 3].map((n) => submit(tenant, { payload: { n } })));
    const broken = await submit(tenant, { type: 'broken' });
    await startWorker({
      echo: async (job) => ({ doubled: (job.payload.n as number) * 2 }),
      broken: async () => {
        throw new PermanentJobError('the input cannot be read');
      },
    });

    await eventually(async () => {
      for (const job of jobs) expect((await get(tenant, job.id)).state).toBe('succeeded');
    });
    expect((await get(tenant, jobs[2]!.id)).result).toEqual({ doubled: 6 });
    await eventually(async () =>
      expect(await get(tenant, broken.id)).toMatchObject({
        state: 'failed',
        attempts: 1,
        lastError: 'PermanentJobError: the input cannot be read',
      }),
    );
    expect(await transitionsOf(jobs[0]!.id)).toEqual([
      '->queued@0',
      'queued>leased@1',
      'leased>running@1',
      'running>succeeded@1',
    ]);
  });

  it('shows the progress a handler reports with the job, the last report arriving before the job ends', async () => {
    const tenant = await bed.newTenant('professional');
    const job = await submit(tenant, { type: 'ingest' });
    let letFinish!: () => void;
    const mayFinish = new Promise<void>((resolve) => (letFinish = resolve));
    await startWorker({
      ingest: async (_job, { reportProgress }) => {
        for (let done = 0; done <= 500; done++)
          reportProgress({ done, total: 1_000, stage: 'embed' });
        await mayFinish;
        for (let done = 501; done <= 1_000; done++)
          reportProgress({ done, total: 1_000, stage: 'index', message: 'last batch' });
        return { chunks: 1_000 };
      },
    });

    await eventually(async () =>
      expect((await get(tenant, job.id)).progress).toMatchObject({
        done: 500,
        total: 1_000,
        stage: 'embed',
        message: null,
        attempt: 1,
      }),
    );
    expect((await get(tenant, job.id)).state).toBe('running');

    letFinish();
    await eventually(async () => expect((await get(tenant, job.id)).state).toBe('succeeded'));
    expect((await get(tenant, job.id)).progress).toMatchObject({
      done: 1_000,
      total: 1_000,
      stage: 'index',
      message: 'last batch',
    });
  });

  it('fires the signal of a running job when it is cancelled, at once, and the job ends cancelled', async () => {
    const tenant = await bed.newTenant('professional');
    const job = await submit(tenant, { type: 'long' });
    const signals: AbortSignal[] = [];
    const events: WorkerEvent[] = [];
    // heartbeats far apart: only the scheduler's word to the worker can stop the job in time
    await startWorker(
      {
        long: (_job, { signal }) =>
          new Promise((_resolve, reject) => {
            signals.push(signal);
            signal.addEventListener('abort', () => reject(signal.reason as Error));
          }),
      },
      { heartbeatMs: 3_600_000, events },
    );
    await eventually(async () => expect((await get(tenant, job.id)).state).toBe('running'));
    expect(signals).toHaveLength(1);

    const cancelled = await bed.rpc.request(
      SchedulerJobsCancel,
      { id: job.id },
      tenantMember(tenant),
    );
    expect(cancelled.state).toBe('cancelled');
    await eventually(() => expect(signals[0]!.aborted).toBe(true));
    expect(signals[0]!.reason).toEqual(new JobAbortedError('cancelled'));
    await eventually(() =>
      expect(events).toContainEqual({
        type: 'stopped',
        job: expect.objectContaining({ id: job.id }),
        reason: 'cancelled',
      }),
    );
    expect(await get(tenant, job.id)).toMatchObject({ state: 'cancelled', leaseOwner: null });
    expect(await transitionsOf(job.id)).toEqual([
      '->queued@0',
      'queued>leased@1',
      'leased>running@1',
      'running>cancelled@1',
    ]);
  });

  it('drains: finishes what it can in the grace period, hands back the rest uncounted, and another worker runs it', async () => {
    const tenant = await bed.newTenant('professional');
    const quick = await submit(tenant, { type: 'quick' });
    const stuck = await submit(tenant, { type: 'stuck' });
    let letQuickGo!: () => void;
    const quickMayEnd = new Promise<void>((r) => (letQuickGo = r));
    const draining = await startWorker({
      quick: async () => {
        await quickMayEnd;
        return { quick: true };
      },
      // honours nothing but its signal
      stuck: (_job, { signal }) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason as Error)),
        ),
    });
    await eventually(async () => {
      expect((await get(tenant, quick.id)).state).toBe('running');
      expect((await get(tenant, stuck.id)).state).toBe('running');
    });

    const drained = draining.drain(1_500);
    letQuickGo();
    await drained;
    expect(draining.inFlight).toBe(0);
    expect((await get(tenant, quick.id)).state).toBe('succeeded');
    expect(await get(tenant, stuck.id)).toMatchObject({ state: 'queued', attempts: 0 });

    await startWorker({ stuck: async () => ({ second: 'worker' }) });
    await eventually(async () =>
      expect(await get(tenant, stuck.id)).toMatchObject({
        state: 'succeeded',
        attempts: 1,
        result: { second: 'worker' },
      }),
    );
    expect(await transitionsOf(stuck.id)).toEqual([
      '->queued@0',
      'queued>leased@1',
      'leased>running@1',
      'running>queued@0',
      'queued>leased@1',
      'leased>running@1',
      'running>succeeded@1',
    ]);
  });

  it('meters the GPU-seconds a job ran on a GPU queue to USAGE, once, as the tenants service counts them', async () => {
    const gpuQueue = await bed.newQueue({ gpusPerJob: 2 });
    const cpuQueue = await bed.newQueue();
    const tenant = await bed.newTenant('professional');
    const onGpu = await submit(tenant, { queue: gpuQueue.name });
    const onCpu = await submit(tenant, { queue: cpuQueue.name });
    const echo = async () => {
      await new Promise((r) => setTimeout(r, 1_100));
      return {};
    };
    await startWorker({ echo }, { on: gpuQueue });
    await startWorker({ echo }, { on: cpuQueue });
    await eventually(async () => {
      expect((await get(tenant, onGpu.id)).state).toBe('succeeded');
      expect((await get(tenant, onCpu.id)).state).toBe('succeeded');
    });

    // each started second of the run, times the queue's two GPUs; nothing for the CPU queue
    const ran = await get(tenant, onGpu.id);
    const expected =
      Math.ceil((Date.parse(ran.finishedAt!) - Date.parse(ran.startedAt!)) / 1000) * 2;
    expect(expected).toBeGreaterThanOrEqual(4);
    await eventually(async () => expect(await gpuSecondsUsed(tenant)).toBe(expected));
    const [{ waiting }] = await bed.ownerDb.query(
      `SELECT count(*)::int AS waiting FROM scheduler.usage_outbox WHERE tenant_id = $1`,
      [tenant],
    );
    expect(waiting).toBe(0);

    // a relay that published and then died before deleting its row publishes it again: the
    // report keeps its message id, and it is still counted once
    const report = {
      messageId: randomUUID(),
      tenantId: tenant,
      resource: 'gpuSeconds' as const,
      amount: 10,
      occurredAt: new Date().toISOString(),
      source: 'scheduler',
    };
    const insertRow = () =>
      bed.ownerDb.query(
        `INSERT INTO scheduler.usage_outbox (tenant_id, event_id, subject_suffix, payload)
         VALUES ($1, $2, 'gpuSeconds', $3)`,
        [tenant, report.messageId, JSON.stringify(report)],
      );
    await insertRow();
    await eventually(async () => expect(await gpuSecondsUsed(tenant)).toBe(expected + 10));
    await insertRow();
    await eventually(async () => {
      const [{ n }] = await bed.ownerDb.query(
        `SELECT count(*)::int AS n FROM scheduler.usage_outbox WHERE tenant_id = $1`,
        [tenant],
      );
      expect(n).toBe(0);
    });
    // a third delivery, straight to the stream under another JetStream id: the tenants
    // service knows the report's own id
    await new JetStreamPublisher(bed.nats, bed.ns).publish(
      UsageReports,
      report,
      randomUUID(),
      'gpuSeconds',
    );
    await usageConsumerCaughtUp();
    expect(await gpuSecondsUsed(tenant)).toBe(expected + 10);
  });

  it('holds the plan GPU-seconds: a tenant over its cap gets no GPU lease and its submit is refused', async () => {
    const gpuQueue = await bed.newQueue({ gpusPerJob: 1 });
    const tenant = await bed.newTenant('free'); // 600 GPU-seconds a month
    const other = await bed.newTenant('professional');
    const waiting = await submit(tenant, { queue: gpuQueue.name });

    // another service reports this month's use up to the cap
    await new JetStreamPublisher(bed.nats, bed.ns).publish(
      UsageReports,
      {
        messageId: randomUUID(),
        tenantId: tenant,
        resource: 'gpuSeconds',
        amount: 600,
        occurredAt: new Date().toISOString(),
        source: 'test',
      },
      randomUUID(),
      'gpuSeconds',
    );
    await eventually(async () => expect(await gpuSecondsUsed(tenant)).toBe(600));

    const refused = await failure(submit(tenant, { queue: gpuQueue.name }));
    expect(refused.code).toBe(ErrorCode.QuotaExceeded);
    expect(refused.details).toMatchObject({ resource: 'gpuSeconds', used: 600, limit: 600 });
    // CPU work is not held to it
    expect((await submit(tenant)).state).toBe('queued');

    const theirs = await submit(other, { queue: gpuQueue.name });
    await startWorker({ echo: async () => ({}) }, { on: gpuQueue });
    await eventually(async () => expect((await get(other, theirs.id)).state).toBe('succeeded'));
    expect((await get(tenant, waiting.id)).state).toBe('queued');
  });
});
