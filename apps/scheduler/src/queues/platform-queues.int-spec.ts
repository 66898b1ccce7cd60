import {
  INFERENCE_INTERACTIVE_QUEUE,
  PLATFORM_QUEUES,
  RAG_INGEST_QUEUE,
  SchedulerQueuesList,
} from '@lattice/contracts';
import {
  platformOperator,
  startSchedulerTestBed,
  type SchedulerTestBed,
} from '../../test/scheduler.test-bed';

jest.setTimeout(60_000);

describe('platform queues', () => {
  let bed: SchedulerTestBed;

  beforeAll(async () => {
    bed = await startSchedulerTestBed();
  });
  afterAll(() => bed?.close());

  const listed = async () =>
    (await bed.rpc.request(SchedulerQueuesList, {}, platformOperator())).items;

  it('are declared by a fresh scheduler, with the limits of the contracts', async () => {
    const queues = await listed();
    for (const declared of PLATFORM_QUEUES) {
      const queue = queues.find((q) => q.name === declared.name);
      expect(queue).toMatchObject({
        workerPool: declared.workerPool,
        maxTenantShare: declared.maxTenantShare,
        defaultTimeoutSeconds: declared.defaultTimeoutSeconds,
        defaultMaxAttempts: declared.defaultMaxAttempts,
        gpusPerJob: declared.gpusPerJob,
      });
    }
    expect(queues.map((q) => q.name)).toEqual(
      expect.arrayContaining([RAG_INGEST_QUEUE, INFERENCE_INTERACTIVE_QUEUE]),
    );
  });

  it("change nothing on a second start, an operator's limits kept", async () => {
    await bed.ownerDb.query(
      `UPDATE scheduler.queues SET max_tenant_share = 0.9, default_max_attempts = 7 WHERE name = $1`,
      [RAG_INGEST_QUEUE],
    );
    const before = await listed();
    await bed.startReplica();
    const after = await listed();
    expect(after.map(({ figures: _f, ...q }) => q)).toEqual(
      before.map(({ figures: _f, ...q }) => q),
    );
    expect(after.find((q) => q.name === RAG_INGEST_QUEUE)).toMatchObject({
      maxTenantShare: 0.9,
      defaultMaxAttempts: 7,
    });
  });
});

describe('platform queues switched off', () => {
  let bed: SchedulerTestBed;

  beforeAll(async () => {
    bed = await startSchedulerTestBed({ env: { SCHEDULER_PLATFORM_QUEUES: 'false' } });
  });
  afterAll(() => bed?.close());

  it('are not declared', async () => {
    const { items } = await bed.rpc.request(SchedulerQueuesList, {}, platformOperator());
    expect(items.map((q) => q.name)).not.toContain(RAG_INGEST_QUEUE);
  });
});
