import { fork } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';

export interface OpenLoopResult {
  /** Answers per second over the run. */
  rps: number;
  answered: number;
  /** Milliseconds from when a request was due to its whole answer. */
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
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
 * `openLoop` in a fresh process of its own, with a young generation large enough that its
 * garbage dies there. Run inside the bench's own process, whose heap holds the saturation
 * turns' results and the launcher's state, the driver stalled in its own mark-compacts: bare
 * Fastify at 11,000 requests/s read a p99 of 25-31 ms there against 3-5 ms from a process of
 * its own, so the machine's floor, not the server's, set the figure. The process inherits
 * this one's core binding (`pinServers`), and warms itself up (compiling its code, opening its
 * connections) for `warmupSeconds` at the same rate before it measures.
 */
export function openLoopApart(run: OpenLoopRun): Promise<OpenLoopResult> {
  const child = fork(path.join(__dirname, 'open-loop.process.js'), [], {
    execArgv: ['--max-semi-space-size=32'],
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
 * the same rate, not measured): request i is due at
 * start + i / rate, sent then whatever the answers before it did (on as many keep-alive
 * connections as that takes, up to `maxSockets`; beyond them it waits its turn), and its
 * latency counts from when it was due, not from when it left. So a server that stalls is
 * charged with every request that piled up behind the stall, as a user arriving at that
 * moment would be; a closed loop (a connection sends its next request only after the answer)
 * sends fewer requests during a stall and understates it, and a per-second quota sent at once
 * (autocannon's rate) measures a burst at saturation every second instead of a steady load.
 */
export async function openLoop(
  url: string,
  headers: Record<string, string>,
  rate: number,
  seconds: number,
  warmupSeconds = 0.5,
  maxSockets = 64,
): Promise<OpenLoopResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
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
  await new Promise<void>((resolve) => {
    const settle = () => {
      outcome.settled += 1;
      if (outcome.settled === total) resolve();
    };
    const send = (i: number) => {
      const due = started + i * interval;
      const counted = i >= unmeasured;
      const failed = () => {
        if (counted) outcome.errors += 1;
        settle();
      };
      const request = http.request(url, { agent, headers }, (response) => {
        response.resume();
        response.on('end', () => {
          if (counted) {
            lastAnswer = performance.now();
            latencies[outcome.answered++] = lastAnswer - due;
            if (response.statusCode! < 200 || response.statusCode! >= 300) outcome.non2xx += 1;
          }
          settle();
        });
        response.on('error', failed);
      });
      request.on('error', failed);
      request.end();
    };
    // every millisecond (the timers' grain), whatever has fallen due since is sent
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - started) / interval) + 1);
      while (sent < due) send(sent++);
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  agent.destroy();
  const answered = latencies.subarray(0, outcome.answered).sort();
  const at = (q: number) =>
    answered.length === 0
      ? NaN
      : answered[Math.min(answered.length - 1, Math.floor(q * answered.length))]!;
  return {
    rps: (outcome.answered * 1000) / Math.max(1, lastAnswer - measuredFrom),
    answered: outcome.answered,
    p50: at(0.5),
    p99: at(0.99),
    non2xx: outcome.non2xx,
    errors: outcome.errors,
  };
}
