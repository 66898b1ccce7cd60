import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import {
  DomainError,
  ErrorCode,
  type JobProgress,
  type JobState,
  type LeasedJob,
  type RegisterWorkerRequest,
} from '@lattice/contracts';
import { createLogger } from '@lattice/logging';
import { eventually } from '@lattice/testing';
import { JobAbortedError, PermanentJobError } from './job-errors';
import type { SchedulerClient } from './scheduler-client';
import {
  createWorker,
  type JobHandler,
  type JobResult,
  type Worker,
  type WorkerEvent,
} from './worker';

// a job's timeout is a whole number of seconds, so one test waits for one
jest.setTimeout(20_000);

const QUEUE = 'embedding';

interface FakeJob {
  job: LeasedJob;
  state: JobState;
  owner: string | null;
  attempts: number;
}

/**
 * The scheduler's side of the protocol, in memory: just enough of its rules (a report about a
 * job the worker does not hold is refused, with the state it found) to drive a worker.
 */
class FakeScheduler implements SchedulerClient {
  readonly jobs = new Map<string, FakeJob>();
  readonly calls: string[] = [];
  readonly registered: RegisterWorkerRequest[] = [];
  draining = false;
  /** Calls that answer "unavailable" this many more times. */
  outage = 0;
  /** Jobs failed retryably: the real scheduler backs them off; here they just wait. */
  readonly resting = new Set<string>();
  private readonly bus = new EventEmitter();

  add(type: string, overrides: Partial<LeasedJob> = {}): string {
    const id = randomUUID();
    this.jobs.set(id, {
      job: {
        id,
        tenantId: randomUUID(),
        queue: QUEUE,
        type,
        payload: {},
        priority: 'standard',
        attempts: 0,
        maxAttempts: 3,
        timeoutSeconds: 60,
        leaseExpiresAt: null,
        labels: {},
        ...overrides,
      },
      state: 'queued',
      owner: null,
      attempts: 0,
    });
    this.bus.emit('ready', QUEUE);
    return id;
  }

  stateOf(id: string): JobState {
    return this.jobs.get(id)!.state;
  }

  cancel(id: string): void {
    const held = this.jobs.get(id)!;
    const owner = held.owner;
    held.state = 'cancelled';
    held.owner = null;
    if (owner) this.bus.emit('cancelled', id, owner);
  }

  async register(request: RegisterWorkerRequest) {
    this.enter('register');
    this.registered.push(request);
    return { ...request, draining: false, leaseSeconds: 3 };
  }

  async lease(request: { workerId: string; max: number }) {
    this.enter('lease');
    const jobs: LeasedJob[] = [];
    for (const held of this.jobs.values()) {
      if (jobs.length >= request.max) break;
      if (held.state !== 'queued' || this.resting.has(held.job.id)) continue;
      held.state = 'leased';
      held.owner = request.workerId;
      held.attempts += 1;
      jobs.push({
        ...held.job,
        attempts: held.attempts,
        leaseExpiresAt: new Date(Date.now() + 3_000).toISOString(),
      });
    }
    return { jobs };
  }

  async heartbeat(request: { workerId: string; jobIds: string[] }) {
    this.enter('heartbeat');
    const held = request.jobIds.filter((id) => this.jobs.get(id)?.owner === request.workerId);
    return {
      held,
      stop: request.jobIds.filter((id) => !held.includes(id)),
      leaseExpiresAt: new Date(Date.now() + 3_000).toISOString(),
      draining: this.draining,
    };
  }

  start(request: { workerId: string; jobId: string }) {
    return this.move('start', request, ['leased'], 'running');
  }
  complete(request: { workerId: string; jobId: string; result?: unknown }) {
    return this.move('complete', request, ['running'], 'succeeded');
  }
  fail(request: { workerId: string; jobId: string; retryable: boolean; error: string }) {
    if (request.retryable) this.resting.add(request.jobId);
    return this.move(
      `fail:${request.retryable ? 'retryable' : 'permanent'}`,
      request,
      ['leased', 'running'],
      request.retryable ? 'queued' : 'failed',
    );
  }
  /** Progress as it arrived; while `progressGate` is set, each report waits for it. */
  readonly progressed: JobProgress[] = [];
  progressGate?: Promise<void>;
  async progress(request: { workerId: string; jobId: string; progress: JobProgress }) {
    this.enter(`progress:${request.jobId}`);
    this.progressed.push(request.progress);
    await this.progressGate;
    const held = this.jobs.get(request.jobId)!;
    if (held.owner !== request.workerId)
      throw new DomainError(ErrorCode.InvalidState, 'the worker does not hold this job', {
        state: held.state,
      });
    return { id: held.job.id, state: held.state, attempts: held.attempts };
  }
  release(request: { workerId: string; jobId: string }) {
    return this.move('release', request, ['leased', 'running'], 'queued', -1);
  }

  onCancelled(listener: (jobId: string, workerId: string) => void) {
    this.bus.on('cancelled', listener);
    return () => this.bus.off('cancelled', listener);
  }
  onWorkReady(listener: (queue: string) => void) {
    this.bus.on('ready', listener);
    return () => this.bus.off('ready', listener);
  }

  private enter(call: string) {
    if (this.outage > 0) {
      this.outage -= 1;
      throw new DomainError(ErrorCode.Unavailable, 'no scheduler is answering');
    }
    this.calls.push(call);
  }

  private async move(
    call: string,
    request: { workerId: string; jobId: string },
    from: JobState[],
    to: JobState,
    attempts = 0,
  ) {
    this.enter(`${call}:${request.jobId}`);
    const held = this.jobs.get(request.jobId);
    if (!held) throw new DomainError(ErrorCode.NotFound, 'no such job');
    if (held.owner !== request.workerId || !from.includes(held.state))
      throw new DomainError(ErrorCode.InvalidState, 'the worker does not hold this job', {
        state: held.state,
      });
    held.state = to;
    held.attempts += attempts;
    if (to !== 'leased' && to !== 'running') held.owner = null;
    return { id: held.job.id, state: to, attempts: held.attempts };
  }
}

/** A handler that waits until the test lets it go, or its signal fires. */
function gate() {
  let release!: (value?: JobResult) => void;
  const seen: { signal?: AbortSignal } = {};
  const handler: JobHandler = (_job, { signal }) =>
    new Promise((resolve) => {
      seen.signal = signal;
      release = resolve;
    });
  return { handler, seen, release: (value?: JobResult) => release(value) };
}

describe('createWorker', () => {
  let scheduler: FakeScheduler;
  let events: WorkerEvent[];
  let worker: Worker | undefined;
  const logger = createLogger('worker-test', 'silent');

  const make = (
    handlers: Record<string, JobHandler>,
    options: {
      concurrency?: number;
      signals?: NodeJS.Signals[];
      graceMs?: number;
      progressMs?: number;
    } = {},
  ) => {
    worker = createWorker({
      scheduler,
      queue: QUEUE,
      concurrency: options.concurrency ?? 2,
      handlers,
      workerId: 'pod-a',
      pollMs: 20,
      heartbeatMs: 20,
      graceMs: options.graceMs ?? 1_000,
      progressMs: options.progressMs,
      signals: options.signals ?? [],
      logger,
      onEvent: (e) => events.push(e),
    });
    return worker;
  };
  const eventsOf = (type: WorkerEvent['type']) =>
    events.filter((e) => e.type === type).map((e) => e.job.id);

  beforeEach(() => {
    scheduler = new FakeScheduler();
    events = [];
  });
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
  });

  it('registers under its id and concurrency, runs each job and completes it with the result', async () => {
    const ids = [scheduler.add('echo'), scheduler.add('echo'), scheduler.add('echo')];
    const seen: string[] = [];
    await make({
      echo: async (job) => {
        seen.push(job.id);
        return { echoed: job.id };
      },
    }).start();

    await eventually(() => expect(eventsOf('completed').sort()).toEqual([...ids].sort()));
    expect(scheduler.registered).toEqual([{ workerId: 'pod-a', queue: QUEUE, concurrency: 2 }]);
    expect(ids.map((id) => scheduler.stateOf(id))).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it('sends progress from a hot loop one report at a time, the newest winning, and the last before the job completes', async () => {
    const id = scheduler.add('count');
    let letProgressGo!: () => void;
    scheduler.progressGate = new Promise<void>((resolve) => (letProgressGo = resolve));
    await make(
      {
        count: async (_job, { reportProgress }) => {
          for (let done = 0; done <= 10_000; done++)
            reportProgress({ done, total: 10_000, stage: 'embed' });
          return { counted: 10_000 };
        },
      },
      { progressMs: 0 },
    ).start();

    // the first report is in flight, the newest waits behind it, and the job is not yet ended
    await eventually(() => expect(scheduler.progressed).toHaveLength(1));
    expect(scheduler.progressed[0]).toEqual({ done: 0, total: 10_000, stage: 'embed' });
    expect(scheduler.stateOf(id)).toBe('running');

    letProgressGo();
    await eventually(() => expect(eventsOf('completed')).toEqual([id]));
    expect(scheduler.progressed).toEqual([
      { done: 0, total: 10_000, stage: 'embed' },
      { done: 10_000, total: 10_000, stage: 'embed' },
    ]);
    expect(scheduler.calls.filter((c) => c.endsWith(id))).toEqual([
      `start:${id}`,
      `progress:${id}`,
      `progress:${id}`,
      `complete:${id}`,
    ]);
  });

  it('refuses a progress report the contract does not admit, to the handler, and sends nothing', async () => {
    const id = scheduler.add('bad');
    const refused: unknown[] = [];
    await make({
      bad: async (_job, { reportProgress }) => {
        for (const progress of [
          { done: 5, total: 4 },
          { done: -1, total: 4 },
          { done: 1, total: 4, colour: 'red' },
        ])
          try {
            reportProgress(progress as JobProgress);
          } catch (error) {
            refused.push(error);
          }
      },
    }).start();
    await eventually(() => expect(eventsOf('completed')).toEqual([id]));
    expect(refused).toHaveLength(3);
    for (const error of refused) expect(error).toMatchObject({ code: ErrorCode.ValidationFailed });
    expect(scheduler.progressed).toEqual([]);
  });

  it('never runs more jobs at once than its concurrency', async () => {
    for (let i = 0; i < 6; i++) scheduler.add('slow');
    let running = 0;
    let most = 0;
    await make(
      {
        slow: async () => {
          running += 1;
          most = Math.max(most, running);
          await new Promise((r) => setTimeout(r, 15));
          running -= 1;
        },
      },
      { concurrency: 2 },
    ).start();
    await eventually(() => expect(eventsOf('completed')).toHaveLength(6));
    expect(most).toBe(2);
  });

  it('fails a job permanently on PermanentJobError, and retryably on any other error', async () => {
    const bad = scheduler.add('bad-input');
    const flaky = scheduler.add('flaky');
    await make({
      'bad-input': async () => {
        throw new PermanentJobError('the document is empty');
      },
      flaky: async () => {
        throw new Error('model server busy');
      },
    }).start();
    await eventually(() => expect(events.filter((e) => e.type === 'failed')).toHaveLength(2));
    expect(scheduler.stateOf(bad)).toBe('failed');
    expect(scheduler.calls).toContain(`fail:permanent:${bad}`);
    expect(scheduler.calls).toContain(`fail:retryable:${flaky}`);
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'failed',
        retryable: true,
        error: 'Error: model server busy',
      }),
    );
  });

  it('fails a job of a type it has no handler for, permanently', async () => {
    const odd = scheduler.add('unknown-kind');
    await make({ echo: async () => undefined }).start();
    await eventually(() => expect(scheduler.stateOf(odd)).toBe('failed'));
  });

  it('fires the signal of a job cancelled while it runs, and reports nothing for it', async () => {
    const { handler, seen } = gate();
    const id = scheduler.add('long');
    await make({ long: handler }).start();
    await eventually(() => expect(seen.signal).toBeDefined());

    scheduler.cancel(id);
    await eventually(() => expect(seen.signal!.aborted).toBe(true));
    expect(seen.signal!.reason).toEqual(new JobAbortedError('cancelled'));
    await eventually(() =>
      expect(events).toContainEqual({
        type: 'stopped',
        job: expect.objectContaining({ id }),
        reason: 'cancelled',
      }),
    );
    expect(scheduler.stateOf(id)).toBe('cancelled');
    expect(scheduler.calls.filter((c) => c.endsWith(id))).toEqual([`start:${id}`]);
    expect(worker!.inFlight).toBe(0);
  });

  it('stops a job the heartbeat says it holds no more', async () => {
    const { handler, seen } = gate();
    const id = scheduler.add('long');
    await make({ long: handler }).start();
    await eventually(() => expect(seen.signal).toBeDefined());
    // taken away without a word (the lease went elsewhere)
    scheduler.jobs.get(id)!.owner = 'someone-else';
    await eventually(() => expect(seen.signal!.reason).toEqual(new JobAbortedError('revoked')));
  });

  it('fires the signal of a job that runs past its timeout, and fails it retryably', async () => {
    const { handler, seen } = gate();
    const id = scheduler.add('long', { timeoutSeconds: 1 });
    await make({ long: handler }).start();
    await eventually(() => expect(seen.signal?.aborted).toBe(true), { timeoutMs: 5_000 });
    expect(seen.signal!.reason).toEqual(new JobAbortedError('timeout'));
    await eventually(() => expect(scheduler.calls).toContain(`fail:retryable:${id}`));
    expect(scheduler.stateOf(id)).toBe('queued');
  });

  it('drains: leases no more, lets the jobs in hand finish, and stops', async () => {
    const gateSeen = gate();
    const { handler, release } = gateSeen;
    const first = scheduler.add('long');
    const { seen } = gateSeen;
    await make({ long: handler }, { concurrency: 1 }).start();
    await eventually(() => expect(seen.signal).toBeDefined());

    const drained = worker!.drain(5_000);
    const later = scheduler.add('long');
    release({ done: true });
    await drained;
    expect(scheduler.stateOf(first)).toBe('succeeded');
    expect(scheduler.stateOf(later)).toBe('queued');
    expect(scheduler.calls.filter((c) => c.startsWith('lease')).length).toBeGreaterThan(0);
  });

  it('hands back what it could not finish within the grace period, the attempt not counted', async () => {
    const { handler, seen } = gate();
    const id = scheduler.add('long');
    await make({ long: handler }, { concurrency: 1 }).start();
    await eventually(() => expect(scheduler.stateOf(id)).toBe('running'));

    await worker!.drain(50);
    expect(seen.signal!.reason).toEqual(new JobAbortedError('shutdown'));
    expect(scheduler.stateOf(id)).toBe('queued');
    expect(scheduler.jobs.get(id)!.attempts).toBe(0);
    expect(eventsOf('released')).toEqual([id]);
    expect(worker!.inFlight).toBe(0);
  });

  it('drains on SIGTERM', async () => {
    const signals = new EventEmitter();
    const on = jest.spyOn(process, 'on').mockImplementation(((name: string, fn: () => void) => {
      signals.on(name, fn);
      return process;
    }) as typeof process.on);
    const off = jest.spyOn(process, 'off').mockImplementation(((name: string, fn: () => void) => {
      signals.off(name, fn);
      return process;
    }) as typeof process.off);
    try {
      const { handler } = gate();
      const id = scheduler.add('long');
      await make({ long: handler }, { signals: ['SIGTERM'], graceMs: 50 }).start();
      await eventually(() => expect(scheduler.stateOf(id)).toBe('running'));
      signals.emit('SIGTERM');
      await eventually(() => expect(scheduler.stateOf(id)).toBe('queued'));
      await eventually(() => expect(signals.listenerCount('SIGTERM')).toBe(0));
    } finally {
      on.mockRestore();
      off.mockRestore();
    }
  });

  it('keeps a completion through a scheduler outage, and counts a retry that finds it done', async () => {
    const id = scheduler.add('echo');
    let outageAt: number | undefined;
    await make({
      echo: async () => {
        outageAt = Date.now();
        scheduler.outage = 3;
        return { ok: true };
      },
    }).start();
    await eventually(() => expect(eventsOf('completed')).toEqual([id]));
    expect(outageAt).toBeDefined();
    expect(scheduler.stateOf(id)).toBe('succeeded');
  });

  it('leases no more once the scheduler says the worker is being drained', async () => {
    await make({ echo: async () => undefined }).start();
    scheduler.draining = true;
    const count = (call: string) => scheduler.calls.filter((c) => c === call).length;
    const beats = count('heartbeat');
    await eventually(() => expect(count('heartbeat')).toBeGreaterThan(beats));
    const leases = count('lease');
    const id = scheduler.add('echo');
    await eventually(() => expect(count('heartbeat')).toBeGreaterThan(beats + 3));
    expect(count('lease')).toBe(leases);
    expect(scheduler.stateOf(id)).toBe('queued');
  });

  it('refuses to start when the queue does not exist', async () => {
    scheduler.register = async () => {
      throw new DomainError(ErrorCode.NotFound, 'no queue named embedding');
    };
    await expect(make({}).start()).rejects.toThrow('no queue named embedding');
  });
});
