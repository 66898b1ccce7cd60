import { JSONCodec, type NatsConnection } from 'nats';
import { ErrorCode, SchedulerQueueDepth } from '@lattice/contracts';
import { RpcClient, SubjectNamespace, connectNats } from '@lattice/messaging';
import { failure, testNamespace, testNatsUrl, testGatewaySigner } from '@lattice/testing';
import { SchedulerQueueSource } from './scheduler-queue.source';

/** The operator's scheduler-queue reader against a responder speaking the scheduler's contract. */
describe(SchedulerQueueSource.name, () => {
  const ns = new SubjectNamespace(testNamespace());
  const json = JSONCodec();
  let nats: NatsConnection;
  let source: SchedulerQueueSource;

  beforeAll(async () => {
    nats = await connectNats(testNatsUrl(), 'scheduler-queue-test');
    source = new SchedulerQueueSource(new RpcClient(nats, testGatewaySigner(), ns, 1_000));
  });
  afterAll(() => nats?.close());

  it('takes the backlog as jobs queued plus jobs in flight, for the queue asked about', async () => {
    const asked: unknown[] = [];
    const responder = nats.subscribe(ns.subject(SchedulerQueueDepth.subject), {
      callback: (_error, msg) => {
        // the request as Nest's NATS transport frames it
        const { queue } = (json.decode(msg.data) as { data: { queue: string } }).data;
        asked.push(queue);
        const response = { queue, queued: 30, inFlight: 12, observedAt: new Date().toISOString() };
        msg.respond(json.encode({ response, isDisposed: true }));
      },
    });
    await nats.flush();
    try {
      expect(await source.backlog('inference-v100')).toBe(42);
      expect(asked).toEqual(['inference-v100']);
    } finally {
      responder.unsubscribe();
    }
  });

  it('fails, rather than reading zero, when no scheduler answers', async () => {
    const error = await failure(source.backlog('inference-v100'));
    expect(error.code).toBe(ErrorCode.Unavailable);
  });
});
