import { describeWorkers, drainVerdict, planRemoval, type WorkerPod } from './drain-plan';

const pod = (name: string, over: Partial<WorkerPod> = {}): WorkerPod => ({
  name,
  assigned: true,
  phase: 'Running',
  ready: true,
  deleting: false,
  ...over,
});

describe(planRemoval.name, () => {
  it('lets the scheduler pick among pods a ReplicaSet ranks alike', () => {
    const pods = ['w-a', 'w-b', 'w-c', 'w-d', 'w-e'].map((n) => pod(n));
    expect(planRemoval(pods, 5, 3)).toEqual({
      drain: [],
      pick: { from: ['w-a', 'w-b', 'w-c', 'w-d', 'w-e'], count: 2 },
    });
  });

  it('drains outright the pods the ReplicaSet removes first whatever their cost', () => {
    const pods = [
      pod('running-1'),
      pod('unready', { ready: false }),
      pod('unscheduled', { assigned: false, phase: 'Pending', ready: false }),
      pod('running-2'),
      pod('pending', { phase: 'Pending', ready: false }),
      pod('running-3'),
    ];
    expect(planRemoval(pods, 6, 2)).toEqual({
      drain: ['unscheduled', 'pending', 'unready'],
      pick: { from: ['running-1', 'running-2', 'running-3'], count: 1 },
    });
    expect(planRemoval(pods, 6, 3)).toEqual({ drain: ['unscheduled', 'pending', 'unready'] });
  });

  it('counts neither pods on their way out nor finished ones', () => {
    const pods = [
      pod('a'),
      pod('b'),
      pod('c'),
      pod('leaving', { deleting: true }),
      pod('done', { phase: 'Succeeded' }),
    ];
    expect(planRemoval(pods, 4, 2)).toEqual({
      drain: [],
      pick: { from: ['a', 'b', 'c'], count: 1 },
    });
  });

  it('drains nothing when the pods are already at or below the new size', () => {
    expect(planRemoval([pod('a'), pod('b')], 4, 2)).toEqual({ drain: [] });
    expect(planRemoval([], 3, 0)).toEqual({ drain: [] });
  });

  it('drains every pod when scaling to zero', () => {
    expect(planRemoval([pod('a'), pod('b', { ready: false })], 2, 0)).toEqual({
      drain: ['b', 'a'],
    });
  });
});

describe(drainVerdict.name, () => {
  const last = [
    { pod: 'a', heldJobs: 2 },
    { pod: 'b', heldJobs: 0 },
  ];

  it('is done once every drained worker holds nothing', () => {
    expect(
      drainVerdict(
        last,
        [
          { pod: 'a', heldJobs: 0 },
          { pod: 'b', heldJobs: 0 },
        ],
        2_000,
        1_000,
      ),
    ).toEqual({ outcome: 'idle' });
  });

  it('waits while a worker holds jobs, until the deadline', () => {
    const now = [
      { pod: 'a', heldJobs: 1 },
      { pod: 'b', heldJobs: 0 },
    ];
    expect(drainVerdict(last, now, 2_000, 1_000)).toEqual({
      outcome: 'waiting',
      busy: [{ pod: 'a', heldJobs: 1 }],
    });
    expect(drainVerdict(last, now, 2_000, 2_000)).toEqual({
      outcome: 'timedOut',
      busy: [{ pod: 'a', heldJobs: 1 }],
    });
  });

  it('never takes an unanswered question for idle: it waits for the deadline on the last figures', () => {
    expect(drainVerdict([{ pod: 'b', heldJobs: 0 }], undefined, 2_000, 1_000)).toEqual({
      outcome: 'waiting',
      busy: [],
    });
    expect(drainVerdict(last, undefined, 2_000, 3_000)).toEqual({
      outcome: 'timedOut',
      busy: [{ pod: 'a', heldJobs: 2 }],
    });
  });
});

describe(describeWorkers.name, () => {
  it('names each worker with what it holds', () => {
    expect(
      describeWorkers([
        { pod: 'a', heldJobs: 1 },
        { pod: 'b', heldJobs: 3 },
      ]),
    ).toBe('a (1 job), b (3 jobs)');
  });
});
