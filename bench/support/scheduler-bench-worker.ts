import { ContextSigner } from '@lattice/request-context';
/**
 * One worker process of `npm run bench:scheduler`: a `@lattice/worker` on BENCH_QUEUE whose
 * handler waits BENCH_WORK_MS (0: returns at once). Writes one line per job it saw through,
 * `completed <id>` once the scheduler took the completion, so the bench can count them even
 * after this process is killed. Drains on SIGTERM.
 */
import { createLogger } from '@lattice/logging';
import { connectNats } from '@lattice/messaging';
import { createWorker } from '@lattice/worker';

async function main(): Promise<void> {
  const env = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  const workMs = Number(process.env.BENCH_WORK_MS ?? 0);
  const nats = await connectNats(env('NATS_URL'), 'bench-worker');
  const out: string[] = [];
  const flush = () => {
    if (out.length > 0) process.stdout.write(out.splice(0).join(''));
  };
  const flusher = setInterval(flush, 50);
  const worker = createWorker({
    nats,
    namespace: env('LATTICE_NAMESPACE'),
    signer: ContextSigner.fromConfig('job-worker', {
      LATTICE_CONTEXT_KEY: env('LATTICE_CONTEXT_KEY'),
      LATTICE_CONTEXT_PUBLIC_KEYS: env('LATTICE_CONTEXT_PUBLIC_KEYS'),
    }),
    queue: env('BENCH_QUEUE'),
    concurrency: Number(env('BENCH_CONCURRENCY')),
    workerId: env('BENCH_WORKER_ID'),
    pollMs: 500,
    signals: ['SIGTERM'],
    logger: createLogger('bench-worker', process.env.LOG_LEVEL ?? 'warn'),
    handlers: {
      noop: async (_job, { signal }) => {
        if (workMs > 0) await new Promise((r) => setTimeout(r, workMs));
        signal.throwIfAborted();
        return undefined;
      },
    },
    onEvent: (e) => {
      if (e.type === 'completed') out.push(`completed ${e.job.id}\n`);
    },
  });
  await worker.start();
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    void (async () => {
      await worker.drain();
      flush();
      clearInterval(flusher);
      await nats.drain();
    })();
  });
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
