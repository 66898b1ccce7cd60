import { fork } from 'node:child_process';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';

export interface OpenLoopResult {
  /** Answers per second over the run. */
  rps: number;
  answered: number;
  /** Milliseconds from when a request was due to its whole answer. */
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** The share of one core the driver itself used over the measured part (1: all of it). */
  driverCpu: number;
  /** The longest the driver's own event loop was held up over the measured part. */
  driverStallMs: number;
}

/** What one open-loop run drives (see `openLoop`). */
export interface OpenLoopRun {
  url: string;
  headers: Record<string, string>;
  rate: number;
  seconds: number;
  warmupSeconds: number;
}

/**
 * `openLoop` in a fresh process of its own. Run inside the bench's own process, whose heap holds
 * the saturation turns' results and the launcher's state, the driver stalled in its own
 * mark-compacts: bare Fastify at 11,000 requests/s read a p99 of 25-31 ms there against 3-5 ms
 * from a process of its own, so the machine's floor, not the server's, set the figure. The
 * process inherits this one's core binding (`pinServers`), and warms itself up (compiling its
 * code, opening its connections) for `warmupSeconds` at the same rate before it measures.
 *
 * It collects its garbage on its own thread (`--single-threaded-gc`). Bound to one core, V8's
 * parallel scavenges wait on helper threads that cannot run beside it there: at 18,000
 * requests/s against the gateway, six runs each, the p99 read through it was 6.4 ms (median)
 * this way against 41 ms with the parallel collector and a 32 MiB young generation, and 64 ms
 * with both the large young generation and this flag.
 */
export function openLoopApart(run: OpenLoopRun): Promise<OpenLoopResult> {
  const child = fork(path.join(__dirname, 'open-loop.process.js'), [], {
    execArgv: ['--single-threaded-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (result) => resolve(result as OpenLoopResult));
    child.once('exit', (code) => reject(new Error(`the open-loop driver exited (${code})`)));
    child.send(run);
  });
}

/**
 * Drives `url` open loop at `rate` requests per second for `seconds`, after `warmupSeconds` at
 * the same rate that are not measured: request i is due at start + i / rate, sent then whatever
 * the answers before it did (on as many keep-alive connections as that takes, up to
 * `connections`; beyond them it waits its turn), and its latency counts from when it was due,
 * not from when it left. So a server that stalls is charged with every request that piled up
 * behind the stall, as a user arriving at that moment would be; a closed loop (a connection
 * sends its next request only after the answer) sends fewer requests during a stall and
 * understates it, and a per-second quota sent at once (autocannon's rate) measures a burst at
 * saturation every second instead of a steady load.
 *
 * The measured requests start on a schedule of their own once every warm-up request has been
 * answered. A driver starts behind: its first requests open the connections and run before its
 * code is compiled, and were answered 0.4-0.7 s after they were due against the gateway at
 * 7,000 requests/s. On one schedule with the warm-up, that backlog had not drained when the
 * measured part began in 10 of 12 runs, which read a p99 of 0.27-2.0 s; with a schedule of its
 * own, 9 runs read 18-99 ms.
 *
 * The requests go out through undici rather than `node:http`: at 16,000 requests/s against a
 * bare Node server the http module's client took 39 µs of CPU a request, undici 22, and a
 * driver that fills its core charges its own queueing to the server. What the driver used of
 * its core over the measured part is answered with the latencies, to be read beside them.
 */
export async function openLoop(
  url: string,
  headers: Record<string, string>,
  rate: number,
  seconds: number,
  warmupSeconds = 0.5,
  connections = 64,
): Promise<OpenLoopResult> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections, pipelining: 1 });
  const request = () =>
    pool.request({ path: `${target.pathname}${target.search}`, method: 'GET', headers });
  await onSchedule(request, rate, Math.round(rate * warmupSeconds), () => undefined);

  const measured = Math.max(1, Math.round(rate * seconds));
  const latencies = new Float64Array(measured);
  const outcome = { answered: 0, non2xx: 0, errors: 0 };
  // how late this process's own timers ran: a driver that stalls delays every request due
  // meanwhile, which the server is then charged with
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const cpuFrom = process.cpuUsage();
  const measuredFrom = performance.now();
  let lastAnswer = measuredFrom;
  await onSchedule(request, rate, measured, (latency, statusCode) => {
    lastAnswer = performance.now();
    if (statusCode === undefined) {
      outcome.errors += 1;
      return;
    }
    latencies[outcome.answered++] = latency;
    if (statusCode < 200 || statusCode >= 300) outcome.non2xx += 1;
  });
  const cpu = process.cpuUsage(cpuFrom);
  delay.disable();
  await pool.close();
  const answered = latencies.subarray(0, outcome.answered).sort();
  const at = (q: number) =>
    answered.length === 0
      ? NaN
      : answered[Math.min(answered.length - 1, Math.floor(q * answered.length))]!;
  const measuredMs = Math.max(1, lastAnswer - measuredFrom);
  return {
    rps: (outcome.answered * 1000) / measuredMs,
    answered: outcome.answered,
    p50: at(0.5),
    p99: at(0.99),
    non2xx: outcome.non2xx,
    errors: outcome.errors,
    driverCpu: (cpu.user + cpu.system) / 1000 / measuredMs,
    driverStallMs: delay.max / 1e6,
  };
}

/**
 * Sends `count` requests, request i due at the start + i / rate, and settles once every one has
 * been answered or has failed; each outcome is told with its latency from when it was due (a
 * failure without a status code).
 */
function onSchedule(
  request: () => Promise<Dispatcher.ResponseData>,
  rate: number,
  count: number,
  onOutcome: (latencyMs: number, statusCode?: number) => void,
): Promise<void> {
  if (count === 0) return Promise.resolve();
  const interval = 1000 / rate;
  const started = performance.now();
  let sent = 0;
  let settled = 0;
  return new Promise<void>((resolve) => {
    const settle = () => {
      settled += 1;
      if (settled === count) resolve();
    };
    const send = (i: number) => {
      const due = started + i * interval;
      request().then(
        async (response) => {
          await response.body.dump();
          onOutcome(performance.now() - due, response.statusCode);
          settle();
        },
        () => {
          onOutcome(performance.now() - due);
          settle();
        },
      );
    };
    // every millisecond (the timers' grain), whatever has fallen due since is sent
    const tick = () => {
      const due = Math.min(count, Math.floor((performance.now() - started) / interval) + 1);
      while (sent < due) send(sent++);
      if (sent < count) setTimeout(tick, 1);
    };
    tick();
  });
}
