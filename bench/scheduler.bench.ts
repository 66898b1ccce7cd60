/**
 * `npm run bench:scheduler`: the scheduler service and `@lattice/worker` processes from dist/,
 * on the local PostgreSQL and NATS (or ones of its own), with the real tenants service for
 * plans. Prints:
 *   (1) throughput: jobs leased and completed per second with a handler that returns at once,
 *       with one scheduler replica and then with two;
 *   (2) submit-to-start latency, p50 and p99, on an idle queue;
 *   (3) loss: a run of BENCH_SCHEDULER_JOBS jobs (default 10,000) during which one worker is
 *       killed with SIGKILL mid-job and one scheduler replica is killed and started again; the
 *       jobs lost and the completions doubled (both should be 0).
 * Figures only, never pass/fail. BENCH_SCHEDULER_THROUGHPUT_JOBS sets the jobs of each run of
 * (1) (default 2,000), BENCH_SCHEDULER_SAMPLES the jobs of (2) (default 100).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { JSONCodec, type NatsConnection } from 'nats';
import { Client } from 'pg';
import {
  JobEvents,
  JobEventsStream,
  PLATFORM_ADMIN_ROLE,
  SchedulerJobsSubmit,
  SchedulerQueuesCreate,
  SERVICE_NAMES,
  TenantsCreate,
  type JobChanged,
} from '@lattice/contracts';
import { RpcClient, SubjectNamespace, connectNats } from '@lattice/messaging';
import { ContextSigner, newContextKeySet, type RequestContext } from '@lattice/request-context';
import {
  LocalNatsServer,
  answers,
  createTestDatabase,
  eventually,
  freePort,
  postgresAnswers,
} from '@lattice/testing';
import { runBench, type Cleanup } from './support/bench-platform';
import { say, sayMachine } from './support/report';

const ROOT = resolve(__dirname, '..', '..');
const DIST = resolve(ROOT, 'dist');
const LOCAL_PG = 'postgres://postgres@127.0.0.1:5432/postgres';
const SECRET = `bench-${randomUUID()}-internal-secret`;
const APP_PASSWORD = `bench-${randomUUID()}`;

const THROUGHPUT_JOBS = Number(process.env.BENCH_SCHEDULER_THROUGHPUT_JOBS ?? 2_000) || 2_000;
const SAMPLES = Number(process.env.BENCH_SCHEDULER_SAMPLES ?? 100) || 100;
const LOSS_JOBS = Number(process.env.BENCH_SCHEDULER_JOBS ?? 10_000) || 10_000;
const WORKERS = 2;
const CONCURRENCY = 16;
/** How long a job of the loss run works, so that a killed worker dies mid-job. */
const LOSS_WORK_MS = 20;
const LEASE_SECONDS = 5;

/** A service or worker as a child process, killed at will. */
class Child {
  private exited: Promise<void>;
  readonly lines: string[] = [];
  private tail = '';

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    onLine?: (line: string) => void,
  ) {
    this.exited = new Promise((r) => child.once('exit', () => r()));
    let partial = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine?.(line);
    });
    child.stderr?.on('data', (chunk: Buffer) => (this.tail = (this.tail + chunk).slice(-2_000)));
  }

  get output(): string {
    return this.tail;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.alive) this.child.kill(signal);
    await this.exited;
  }
}

function node(entry: string, env: Record<string, string>, args: string[] = []): ChildProcess {
  return spawn(process.execPath, [resolve(DIST, entry), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function service(
  name: string,
  entry: string,
  portVariable: string,
  env: Record<string, string>,
): Promise<Child> {
  const port = await freePort();
  const child = new Child(
    name,
    node(entry, { ...env, [portVariable]: String(port) }, ['--migrate']),
  );
  await eventually(
    async () => {
      if (!child.alive) throw new Error(`${name} exited: ${child.output}`);
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status !== 200) throw new Error(`${name} not ready`);
    },
    { timeoutMs: 120_000, intervalMs: 200 },
  );
  return child;
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

runBench(async (cleanup: Cleanup) => {
  sayMachine();
  if (!(await postgresAnswers(LOCAL_PG)) && !process.env.DATABASE_URL)
    throw new Error('no PostgreSQL on 127.0.0.1:5432 and no DATABASE_URL');
  let natsUrl = process.env.NATS_URL;
  if (!natsUrl) {
    if (await answers('127.0.0.1', 4222)) natsUrl = 'nats://127.0.0.1:4222';
    else {
      const own = await LocalNatsServer.start();
      cleanup.add('nats-server', () => own.stop());
      natsUrl = own.url;
    }
  }
  const database = await createTestDatabase(process.env.DATABASE_URL ?? LOCAL_PG);
  cleanup.add('database', () => database.drop());
  const namespace = `bench${randomUUID().slice(0, 8)}`;
  // each process signs with its own key; the bench calls as the gateway does
  const keys = newContextKeySet(SERVICE_NAMES);
  const identity = (service: string) => ({
    LATTICE_CONTEXT_KEY: keys.privateKeys[service],
    LATTICE_CONTEXT_PUBLIC_KEYS: keys.publicKeys,
  });
  const common = {
    NATS_URL: natsUrl,
    LATTICE_NAMESPACE: namespace,
    LATTICE_INTERNAL_SECRET: SECRET,
    DATABASE_URL: database.url,
    DATABASE_APP_PASSWORD: APP_PASSWORD,
    LOG_LEVEL: 'warn',
  };
  const schedulerEnv = {
    ...common,
    ...identity('scheduler'),
    SCHEDULER_LEASE_SECONDS: String(LEASE_SECONDS),
    SCHEDULER_LEASE_SWEEP_SECONDS: '1',
    SCHEDULER_RETRY_BASE_SECONDS: '0.5',
    SCHEDULER_RETRY_MAX_SECONDS: '2',
    DATABASE_POOL_SIZE: '10',
  };
  const children: Child[] = [];
  cleanup.add('processes', async () => {
    for (const child of children) await child.kill('SIGKILL');
  });
  const startScheduler = async (n: number) => {
    const child = await service(
      `scheduler-${n}`,
      'apps/scheduler/src/main.js',
      'SCHEDULER_HTTP_PORT',
      schedulerEnv,
    );
    children.push(child);
    return child;
  };

  const tenants = await service('tenants', 'apps/tenants/src/main.js', 'TENANTS_HTTP_PORT', {
    ...common,
    ...identity('tenants'),
  });
  children.push(tenants);
  const schedulers = [await startScheduler(1)];

  const nats: NatsConnection = await connectNats(natsUrl, 'bench-scheduler');
  cleanup.add('nats', () => nats.drain().catch(() => undefined));
  const ns = new SubjectNamespace(namespace);
  const rpc = new RpcClient(
    nats,
    ContextSigner.fromConfig('gateway', identity('gateway')),
    ns,
    30_000,
  );
  const db = new Client({ connectionString: database.url });
  await db.connect();
  cleanup.add('pg', () => db.end());

  const admin: RequestContext = {
    tenantId: null,
    actor: { type: 'bootstrap', id: 'bench', roles: [PLATFORM_ADMIN_ROLE] },
    requestId: randomUUID(),
  };
  const member = (tenantId: string): RequestContext => ({
    tenantId,
    actor: { type: 'user', id: 'bench-user', roles: ['tenant-admin'] },
    requestId: randomUUID(),
  });
  const tenantIds: string[] = [];
  for (let i = 0; i < 4; i++) {
    const slug = `bench-${randomUUID().slice(0, 8)}`;
    tenantIds.push(
      (await rpc.request(TenantsCreate, { slug, name: slug, plan: 'enterprise' }, admin)).id,
    );
  }
  const newQueue = async () =>
    (
      await rpc.request(
        SchedulerQueuesCreate,
        {
          name: `bench-${randomUUID().slice(0, 8)}`,
          workerPool: 'bench-workers',
          maxTenantShare: 1,
          defaultTimeoutSeconds: 60,
          defaultMaxAttempts: 10,
        },
        admin,
      )
    ).name;

  /** Submits `count` jobs spread over the tenants, 64 at a time. */
  const submitMany = async (queue: string, count: number) => {
    let next = 0;
    const lanes = Array.from({ length: 64 }, async () => {
      while (next < count) {
        const i = next++;
        await rpc.request(
          SchedulerJobsSubmit,
          { queue, type: 'noop', payload: { i }, priority: 'batch' },
          member(tenantIds[i % tenantIds.length]!),
        );
      }
    });
    await Promise.all(lanes);
  };

  const completedBy = new Map<string, number>();
  let workerCount = 0;
  const startWorker = async (queue: string, workMs: number, concurrency = CONCURRENCY) => {
    const id = `bench-w${++workerCount}`;
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    const child = new Child(
      id,
      node('bench/support/scheduler-bench-worker.js', {
        ...common,
        ...identity('job-worker'),
        BENCH_QUEUE: queue,
        BENCH_CONCURRENCY: String(concurrency),
        BENCH_WORKER_ID: id,
        BENCH_WORK_MS: String(workMs),
      }),
      (line) => {
        if (line === 'ready') ready();
        else if (line.startsWith('completed '))
          completedBy.set(line.slice(10), (completedBy.get(line.slice(10)) ?? 0) + 1);
      },
    );
    children.push(child);
    await Promise.race([
      isReady,
      eventually(
        () => {
          if (!child.alive) throw new Error(`${id} did not start: ${child.output}`);
          throw new Error('not ready yet');
        },
        { timeoutMs: 60_000 },
      ).catch((error: Error) => {
        if (error.message.includes('did not start')) throw error;
      }),
    ]);
    await isReady;
    return child;
  };
  const figures = async (queue: string) => {
    const { rows } = await db.query<{ state: string; n: number }>(
      `SELECT state, count(*)::int AS n FROM scheduler.jobs WHERE queue = $1 GROUP BY state`,
      [queue],
    );
    return Object.fromEntries(rows.map((r) => [r.state, r.n])) as Record<string, number>;
  };
  const waitUntilDone = async (
    queue: string,
    total: number,
    onProgress?: (done: number) => Promise<void>,
  ) => {
    for (;;) {
      const f = await figures(queue);
      const done = (f.succeeded ?? 0) + (f.failed ?? 0) + (f.dead ?? 0) + (f.cancelled ?? 0);
      if (onProgress) await onProgress(done);
      if (done >= total) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  /** From the first start to the last finish, by the scheduler's own clock. */
  const throughputOf = async (queue: string) => {
    const { rows } = await db.query<{ n: number; seconds: number }>(
      `SELECT count(*)::int AS n,
              extract(epoch FROM max(finished_at) - min(started_at))::float AS seconds
         FROM scheduler.jobs WHERE queue = $1 AND state = 'succeeded'`,
      [queue],
    );
    return rows[0]!.n / rows[0]!.seconds;
  };

  say(
    `setup: ${WORKERS} worker processes x concurrency ${CONCURRENCY}, 4 enterprise tenants, lease ${LEASE_SECONDS} s`,
  );

  // (1) throughput
  const throughput = async (replicas: number) => {
    const queue = await newQueue();
    await submitMany(queue, THROUGHPUT_JOBS);
    const workers: Child[] = [];
    for (let w = 0; w < WORKERS; w++) workers.push(await startWorker(queue, 0));
    await waitUntilDone(queue, THROUGHPUT_JOBS);
    for (const worker of workers) await worker.kill('SIGTERM');
    const rate = await throughputOf(queue);
    say(
      `throughput, ${replicas} scheduler replica${replicas > 1 ? 's' : ''}: ${rate.toFixed(0)} jobs/s leased and completed (${THROUGHPUT_JOBS} jobs)`,
    );
    return rate;
  };
  const one = await throughput(1);
  schedulers.push(await startScheduler(2));
  const two = await throughput(2);
  say(`throughput, two replicas / one: ${(two / one).toFixed(2)}x`);

  // (2) submit-to-start latency on an idle queue
  {
    const queue = await newQueue();
    const worker = await startWorker(queue, 0, 4);
    const latencies: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const job = await rpc.request(
        SchedulerJobsSubmit,
        { queue, type: 'noop', payload: { i }, priority: 'interactive' },
        member(tenantIds[0]!),
      );
      await eventually(
        async () => {
          const { rows } = await db.query<{ ms: number | null }>(
            `SELECT extract(epoch FROM started_at - created_at)::float * 1000 AS ms
               FROM scheduler.jobs WHERE id = $1 AND state = 'succeeded'`,
            [job.id],
          );
          if (rows[0]?.ms === undefined || rows[0].ms === null) throw new Error('not yet');
          latencies.push(rows[0].ms);
        },
        { timeoutMs: 30_000, intervalMs: 5 },
      );
    }
    await worker.kill('SIGTERM');
    latencies.sort((a, b) => a - b);
    say(
      `submit-to-start latency, idle queue (${SAMPLES} jobs one after another): p50 ${quantile(latencies, 0.5).toFixed(1)} ms, p99 ${quantile(latencies, 0.99).toFixed(1)} ms`,
    );
  }

  // (3) loss under a worker kill -9 and a scheduler replica restart
  {
    const queue = await newQueue();
    completedBy.clear();
    const t0 = Date.now();
    await submitMany(queue, LOSS_JOBS);
    say(`loss run: ${LOSS_JOBS} jobs submitted in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const workers: Child[] = [];
    for (let w = 0; w < WORKERS + 1; w++) workers.push(await startWorker(queue, LOSS_WORK_MS));
    let killedWorker = false;
    let restarted = false;
    let heldByKilled = 0;
    const started = Date.now();
    await waitUntilDone(queue, LOSS_JOBS, async (done) => {
      if (!killedWorker && done >= LOSS_JOBS * 0.25) {
        killedWorker = true;
        const victim = workers[0]!;
        const { rows } = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM scheduler.jobs WHERE lease_owner = $1`,
          [victim.name],
        );
        heldByKilled = rows[0]!.n;
        await victim.kill('SIGKILL');
        say(
          `loss run: killed ${victim.name} with SIGKILL holding ${heldByKilled} jobs, at ${done} done`,
        );
        workers.push(await startWorker(queue, LOSS_WORK_MS));
      }
      if (!restarted && done >= LOSS_JOBS * 0.5) {
        restarted = true;
        const victim = schedulers.shift()!;
        await victim.kill('SIGKILL');
        say(`loss run: killed ${victim.name} with SIGKILL at ${done} done; starting it again`);
        schedulers.push(await startScheduler(3));
      }
    });
    const seconds = (Date.now() - started) / 1000;
    for (const worker of workers) await worker.kill('SIGTERM');

    const f = await figures(queue);
    const { rows: twice } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (
         SELECT t.job_id FROM scheduler.job_transitions t JOIN scheduler.jobs j ON j.id = t.job_id
          WHERE j.queue = $1 AND t.to_state = 'succeeded' GROUP BY t.job_id HAVING count(*) > 1) d`,
      [queue],
    );
    const { rows: reruns } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (
         SELECT t.job_id FROM scheduler.job_transitions t JOIN scheduler.jobs j ON j.id = t.job_id
          WHERE j.queue = $1 AND t.to_state = 'leased' GROUP BY t.job_id HAVING count(*) > 1) d`,
      [queue],
    );
    const lost = LOSS_JOBS - (f.succeeded ?? 0);
    const doubledInDb = twice[0]!.n;
    say(
      `loss run: ${LOSS_JOBS} jobs in ${seconds.toFixed(1)} s; states ${JSON.stringify(f)}; run again after the kills: ${reruns[0]!.n}`,
    );
    say(`loss run: LOST ${lost}; succeeded twice in the job record ${doubledInDb}`);
    // what other services saw: the JOB_EVENTS stream, once the relays have caught up
    let succeededEvents = new Map<string, number>();
    await eventually(
      async () => {
        succeededEvents = await succeededEventsOf(nats, ns, queue);
        if (succeededEvents.size < (f.succeeded ?? 0)) throw new Error('relay catching up');
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    const doubledEvents = [...succeededEvents.values()].filter((n) => n > 1).length;
    const doubledByWorkers = [...completedBy.values()].filter((n) => n > 1).length;
    say(
      `loss run: ${LOSS_JOBS} jobs in ${seconds.toFixed(1)} s (${(LOSS_JOBS / seconds).toFixed(0)} jobs/s, ${LOSS_WORK_MS} ms each); states ${JSON.stringify(f)}`,
    );
    say(`loss run: jobs run again after the kill (leased more than once): ${reruns[0]!.n}`);
    say(`loss run: LOST ${lost}`);
    say(
      `loss run: DUPLICATED completions ${doubledInDb + doubledEvents + doubledByWorkers} (succeeded twice in the job's record ${doubledInDb}, in JOB_EVENTS ${doubledEvents}, acknowledged twice to a worker ${doubledByWorkers})`,
    );
  }
});

/** Every `succeeded` event of the queue in JOB_EVENTS, counted per job. */
async function succeededEventsOf(
  nats: NatsConnection,
  ns: SubjectNamespace,
  queue: string,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const jsm = await nats.jetstreamManager();
  const stream = ns.stream(JobEventsStream.name);
  const subject = ns.subject(`${JobEvents.subject}.succeeded`);
  const { state } = await jsm.streams.info(stream, { subjects_filter: subject });
  const total = state.subjects?.[subject] ?? 0;
  if (total === 0) return counts;
  const consumer = await nats.jetstream().consumers.get(stream, { filterSubjects: [subject] });
  const json = JSONCodec<JobChanged>();
  const messages = await consumer.consume();
  let read = 0;
  for await (const msg of messages) {
    const event = json.decode(msg.data);
    if (event.queue === queue) counts.set(event.jobId, (counts.get(event.jobId) ?? 0) + 1);
    if (++read >= total || msg.info.pending === 0) break;
  }
  await messages.close();
  return counts;
}
