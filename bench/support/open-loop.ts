import { fork } from 'node:child_process';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Pool } from 'undici';

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
 * Drives `url` open loop at `rate` requests per second for `seconds` (after `warmupSeconds` at
 * the same rate, not measured): request i is due at start + i / rate, sent then whatever the
 * answers before it did (on as many keep-alive connections as that takes, up to `connections`;
 * beyond them it waits its turn), and its latency counts from when it was due, not from when it
 * left. So a server that stalls is charged with every request that piled up behind the stall,
 * as a user arriving at that moment would be; a closed loop (a connection sends its next
 * request only after the answer) sends fewer requests during a stall and understates it, and a
 * per-second quota sent at once (autocannon's rate) measures a burst at saturation every
 * second instead of a steady load.
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
  const requestPath = `${target.pathname}${target.search}`;
  // the first requests open the connections and find this code not yet compiled: they run at
  // the same rate, unmeasured, right before the measured ones
  const unmeasured = Math.round(rate * warmupSeconds);
  const measured = Math.max(1, Math.round(rate * seconds));
  const total = unmeasured + measured;
  const interval = 1000 / rate;
  const latencies = new Float64Array(measured);
  const outcome = { answered: 0, non2xx: 0, errors: 0, settled: 0 };
  const started = performance.now();
  const measuredFrom = started + unmeasured * interval;
  let sent = 0;
  let lastAnswer = started;
  let cpuFrom: NodeJS.CpuUsage | undefined;
  // how late this process's own timers ran: a driver that stalls delays every request due
  // meanwhile, which the server is then charged with
  const delay = monitorEventLoopDelay({ resolution: 1 });
  await new Promise<void>((resolve) => {
    const settle = () => {
      outcome.settled += 1;
      if (outcome.settled === total) resolve();
    };
    const send = (i: number) => {
      const due = started + i * interval;
      const counted = i >= unmeasured;
      if (counted && !cpuFrom) {
        cpuFrom = process.cpuUsage();
        delay.enable();
      }
      pool.request({ path: requestPath, method: 'GET', headers }).then(
        async (response) => {
          await response.body.dump();
          if (counted) {
            lastAnswer = performance.now();
            latencies[outcome.answered++] = lastAnswer - due;
            if (response.statusCode < 200 || response.statusCode >= 300) outcome.non2xx += 1;
          }
          settle();
        },
        () => {
          if (counted) outcome.errors += 1;
          settle();
        },
      );
    };
    // every millisecond (the timers' grain), whatever has fallen due since is sent
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - started) / interval) + 1);
      while (sent < due) send(sent++);
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
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
