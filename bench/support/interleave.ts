/**
 * Comparisons a noisy machine cannot decide: the two targets of each comparison are driven in
 * adjacent turns (A B, then B A the next round), each turn a short run at saturation, for
 * several rounds, so the noise of any moment falls on both alike. A ratio is taken from each
 * pair of adjacent turns and reported as its median with the spread of the rounds; a goal is
 * said to be met only when every round meets it, and a spread that covers both sides of it
 * says so. The load generator runs in this process, on the same cores as the servers it
 * drives, so a saturation figure is partly its own; where a target names the process that
 * answers it, that process's CPU per request is measured in the same turns and compared too.
 */
import os from 'node:os';
import autocannon from 'autocannon';
import { call } from './bench-platform';
import { openLoopApart } from './open-loop';
import { childrenOf, cpuSeconds, pinMainThread, pinToCore } from './process-cpu';
import { say } from './report';

export interface Target {
  target: string;
  url: string;
  headers: Record<string, string>;
  /**
   * The process that answers it, when it runs on this machine: its CPU time over each turn,
   * divided by the requests answered, is the target's cost per request whatever the load
   * generator (which shares the machine) could drive.
   */
  pid?: number;
}

/** How the targets are driven: BENCH_ROUNDS and BENCH_DURATION override the defaults. */
export interface Plan {
  /** Rounds of turns; each round drives every target once. */
  rounds: number;
  /** Seconds of each measured turn. */
  duration: number;
  /** Most seconds of the warm-up each target gets once, before the first round (see `warmUp`). */
  warmup: number;
  /** Connections at saturation. */
  connections: number;
}

export function planFromEnv(defaults: Partial<Plan> = {}): Plan {
  const positive = (name: string, fallback: number) => {
    const value = Number(process.env[name]);
    return Number.isFinite(value) && value > 0 ? value : fallback;
  };
  return {
    rounds: positive('BENCH_ROUNDS', defaults.rounds ?? 5),
    duration: positive('BENCH_DURATION', defaults.duration ?? 2),
    warmup: defaults.warmup ?? 12,
    connections: defaults.connections ?? 50,
  };
}

export function sayPlan(plan: Plan): void {
  say(
    `runs: ${plan.rounds} rounds; in each, the two targets of every comparison driven in ` +
      `adjacent turns of ${plan.duration}s at saturation (${plan.connections} connections), ` +
      `A B then B A the next round; each target warmed up first, in 1s turns until its CPU ` +
      `per request stops falling (${WARMUP_MIN_SECONDS}-${plan.warmup}s)`,
  );
}

/**
 * Binds the load generator (this process) to one core and the main thread of every server the
 * targets name to another, unless BENCH_PIN=0 or the machine has one core. Left to the
 * scheduler, two runs of the same build in two processes differed by a quarter in CPU per
 * request, by where each happened to run beside the load generator; bound, the same
 * comparison read 0.98-1.00x.
 *
 * A server's other threads (V8's collector and optimising compiler) go to the load
 * generator's core, as they would run beside the main thread on another core of a node: bound
 * to the main thread's core, a concurrent mark or compile took the core from it, and at 14,000
 * requests/s open loop the gateway's main thread was preempted 1,022-1,140 times in 6 s with
 * its p99 at 15-114 ms, against 579-673 times and 5.8-18 ms with its helpers apart. Their CPU
 * still counts in the server's cost per request. Every other process this bench started (the
 * platform's other services, the baselines) goes there too: left free, their timers landed on
 * the servers' core, and the preemptions at 12,000 requests/s fell from 1,734-1,900 to
 * 847-968, the p99 from 5.0-32 ms to 5.6-9.2 ms, when they were moved.
 */
export function pinServers(targets: Target[]): void {
  if (process.env.BENCH_PIN === '0' || os.cpus().length < 2) return;
  const servers = [...new Set(targets.flatMap((t) => (t.pid ? [t.pid] : [])))];
  const others = childrenOf(process.pid).filter((pid) => !servers.includes(pid));
  const pinned =
    pinToCore(process.pid, 0) &&
    servers.every((pid) => pinMainThread(pid, 1, 0)) &&
    others.every((pid) => pinToCore(pid, 0));
  say(
    pinned
      ? `pinned: the main threads of the ${servers.length} servers measured to core 1; the load ` +
          `generator, those servers' other threads and the ${others.length} other processes this ` +
          `bench started to core 0 (BENCH_PIN=0: not)`
      : 'not pinned: taskset could not bind the processes to cores',
  );
}

/** One turn: a target driven once. */
export interface Sample {
  target: string;
  round: number;
  /** The comparison the turn was driven for (its index), if any. */
  pair?: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** CPU microseconds the answering process spent per request (see `Target.pid`). */
  cpuPerRequest?: number;
  /** Of an open-loop turn: the share of its core the driver used (see `openLoop`). */
  driverCpu?: number;
  /** Of an open-loop turn: the longest the driver's own event loop was held up. */
  driverStallMs?: number;
}

/** What one turn of a load generator gives, before the answering process's CPU is added. */
type TurnResult = Omit<Sample, 'target' | 'round' | 'cpuPerRequest'> & { answered: number };

/** A turn against `t`, with the CPU its answering process spent per request answered. */
async function measured(
  t: Target,
  turn: () => Promise<TurnResult>,
): Promise<Sample & { round: -1 }> {
  const cpuBefore = t.pid ? cpuSeconds(t.pid) : null;
  const { answered, ...r } = await turn();
  const cpuAfter = t.pid ? cpuSeconds(t.pid) : null;
  return {
    target: t.target,
    round: -1,
    ...r,
    ...(cpuBefore !== null && cpuAfter !== null && answered > 0
      ? { cpuPerRequest: ((cpuAfter - cpuBefore) * 1e6) / answered }
      : {}),
  };
}

/** A target driven at saturation by `connections` closed-loop connections. */
function drive(t: Target, seconds: number, connections: number) {
  return measured(t, async () => {
    const r = await autocannon({ url: t.url, headers: t.headers, connections, duration: seconds });
    return {
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
      answered: r.requests.total,
    };
  });
}

/**
 * Seconds an open-loop driver runs at its rate, unmeasured, before it measures: its own code
 * compiled and its connections open.
 */
const DRIVER_WARMUP_SECONDS = 2;

/** The fewest seconds a target is warmed up for, whatever its cost per request does. */
const WARMUP_MIN_SECONDS = 3;

/**
 * Drives a target at saturation in 1-second turns until its process's CPU per request stops
 * falling (a turn within 5 % of the one before), for `WARMUP_MIN_SECONDS` to `plan.warmup`
 * seconds, and says how long it took and what the cost fell from. V8 compiles a server's hot
 * code with its optimising compiler on a thread of the server's own, on the core the server is
 * bound to, for several seconds of load: after 2.5 s of it the gateway still spent 16 % of its
 * CPU there, after 12 s 4 %. A turn driven before that settles measures the compiler too. A
 * target whose process is not known is driven for the fewest seconds.
 */
async function warmUp(t: Target, plan: Plan): Promise<void> {
  const costs: number[] = [];
  for (let second = 1; second <= plan.warmup; second++) {
    const { cpuPerRequest } = await drive(t, 1, plan.connections);
    if (cpuPerRequest !== undefined) costs.push(cpuPerRequest);
    const [before, last] = costs.slice(-2);
    const settled = costs.length === 0 || (before !== undefined && last! >= before * 0.95);
    if (second >= WARMUP_MIN_SECONDS && settled) break;
  }
  say(
    costs.length === 0
      ? `warm-up: ${t.target} ${WARMUP_MIN_SECONDS}s`
      : `warm-up: ${t.target} ${costs.length}s, cpu us/req ${costs.map((c) => c.toFixed(1)).join(' ')}`,
  );
}

/**
 * Checks that every target answers 200 and warms each up; then, for `plan.rounds` rounds,
 * drives each target no comparison names once, and the two targets of every comparison in
 * adjacent turns, the order of the two and of the comparisons reversed every other round.
 */
export async function interleave(
  targets: Target[],
  comparisons: Comparison[],
  plan: Plan,
): Promise<Sample[]> {
  const named = (name: string) => {
    const t = targets.find((x) => x.target === name);
    if (!t) throw new Error(`no target ${name}`);
    return t;
  };
  for (const t of targets) await call(`${t.target} (GET ${t.url})`, t.url, { headers: t.headers });
  for (const t of targets) await warmUp(t, plan);
  const compared = new Set(comparisons.flatMap((c) => [c.a, c.b]));
  const alone = targets.filter((t) => !compared.has(t.target));
  const samples: Sample[] = [];
  for (let round = 0; round < plan.rounds; round++) {
    const forward = round % 2 === 0;
    for (const t of alone) {
      samples.push({ ...(await drive(t, plan.duration, plan.connections)), round });
    }
    const pairs = comparisons.map((c, pair) => ({ ...c, pair }));
    for (const { a, b, pair } of forward ? pairs : pairs.reverse()) {
      for (const name of forward ? [a, b] : [b, a]) {
        samples.push({
          ...(await drive(named(name), plan.duration, plan.connections)),
          round,
          pair,
        });
      }
    }
  }
  return samples;
}

/**
 * A target driven open loop at `rate` (bench/support/open-loop.ts): requests due at even
 * intervals, each one's latency counted from when it was due.
 */
async function driveAtRate(t: Target, plan: Plan, rate: number): Promise<Sample & { round: -1 }> {
  const { answered: _answered, ...r } = await openLoopApart({
    url: t.url,
    headers: t.headers,
    rate,
    seconds: plan.duration,
    warmupSeconds: DRIVER_WARMUP_SECONDS,
  });
  // no CPU per request: the server's CPU over the turn includes the driver's warm-up
  return { target: t.target, round: -1, ...r };
}

/**
 * Each target driven at a fixed rate (half its median peak unless given), in turns as above,
 * for the latency a user sees when the gateway is busy but not saturated: open loop, so the
 * load is steady and a stall is charged with everything that arrived during it.
 */
export async function atFixedRate(
  targets: (Target & { rate: number })[],
  plan: Plan,
  rounds = plan.rounds,
): Promise<Sample[]> {
  const samples: Sample[] = [];
  // each driver warms itself up; each server is warmed up at its rate once, unmeasured, first
  for (const t of targets) await driveAtRate(t, plan, Math.max(1, Math.round(t.rate)));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) {
      const rate = Math.max(1, Math.round(t.rate));
      samples.push({ ...(await driveAtRate(t, plan, rate)), round });
    }
  }
  return samples;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const of = (samples: Sample[], target: string) => {
  const mine = samples.filter((s) => s.target === target);
  if (mine.length === 0) throw new Error(`no runs of ${target}`);
  return mine;
};

/** The median saturation throughput of a target. */
export const medianRps = (samples: Sample[], target: string) =>
  median(of(samples, target).map((s) => s.rps));

const fmt = (n: number, digits = 0) => n.toFixed(digits);
/** `min-max`, or `min to max` where either is negative. */
const spread = (values: number[], digits = 0) => {
  const [low, high] = [Math.min(...values), Math.max(...values)];
  return `${fmt(low, digits)}${low < 0 || high < 0 ? ' to ' : '-'}${fmt(high, digits)}`;
};

function table(header: string[], lines: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  say(line(header));
  say(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) say(line(l));
  say('');
}

/** The CPU per request of each of a target's turns, where every turn measured it. */
const cpuOf = (samples: Sample[]): number[] | undefined => {
  const cpu = samples.map((s) => s.cpuPerRequest);
  return cpu.every((c) => c !== undefined) ? (cpu as number[]) : undefined;
};

/**
 * Per target: median req/s and the spread of the rounds, median p50 and p99, failures, and
 * the answering process's CPU per request where it was measured.
 */
export function printTargets(samples: Sample[], title: string): void {
  const targets = [...new Set(samples.map((s) => s.target))];
  say(title);
  table(
    [
      'target',
      'req/s',
      '(min-max)',
      'p50 ms',
      'p99 ms',
      '(min-max)',
      'non-2xx',
      'errors',
      'cpu us/req',
      '(min-max)',
    ],
    targets.map((target) => {
      const mine = of(samples, target);
      const p99 = mine.map((s) => s.p99);
      const cpu = cpuOf(mine);
      return [
        target,
        fmt(median(mine.map((s) => s.rps))),
        spread(mine.map((s) => s.rps)),
        fmt(median(mine.map((s) => s.p50)), 2),
        fmt(median(p99), 2),
        spread(p99, 2),
        String(mine.reduce((n, s) => n + s.non2xx, 0)),
        String(mine.reduce((n, s) => n + s.errors, 0)),
        cpu ? fmt(median(cpu), 1) : '-',
        cpu ? spread(cpu, 1) : '',
      ];
    }),
  );
}

export interface Comparison {
  /** The target measured, and the one it is measured against. */
  a: string;
  b: string;
  /** A ratio of saturation throughput to reach (a/b at least this much), if the issue set one. */
  goal?: number;
}

/** The goal against the rounds: met in every one, in none, or a spread covering both sides. */
function verdict(ratios: number[], goal: number | undefined): string {
  if (goal === undefined) return '';
  const met = ratios.filter((r) => r >= goal).length;
  if (met === ratios.length) return `goal ${goal}x: met in every round`;
  if (met === 0) return `goal ${goal}x: not met in any round`;
  return `goal ${goal}x: spread covers both sides (${met} of ${ratios.length} rounds)`;
}

/**
 * For each comparison (in the order given to `interleave`), the ratio a/b of saturation
 * throughput in each round's adjacent turns: its median and spread, and what it says of the
 * goal. Where both processes' CPU was measured, also the ratio of their costs, b's CPU per
 * request over a's: the throughput a would reach against b's on a core of its own, which the
 * load generator sharing this machine's cores does not cap.
 */
export function printComparisons(samples: Sample[], comparisons: Comparison[]): void {
  const rounds = [...new Set(samples.map((s) => s.round))];
  say('throughput ratios, a/b of adjacent turns (median, min-max over the rounds):');
  table(
    ['a/b', 'median', '(min-max)', '', 'per cpu', '(min-max)', ''],
    comparisons.map(({ a, b, goal }, pair) => {
      const turns = rounds.map((round) => {
        const turnOf = (t: string) =>
          of(samples, t).find((s) => s.round === round && s.pair === pair)!;
        return { a: turnOf(a), b: turnOf(b) };
      });
      const ratios = turns.map((t) => t.a.rps / t.b.rps);
      const costs = cpuOf(turns.flatMap((t) => [t.a, t.b]))
        ? turns.map((t) => t.b.cpuPerRequest! / t.a.cpuPerRequest!)
        : undefined;
      return [
        `${a}/${b}`,
        `${fmt(median(ratios), 2)}x`,
        spread(ratios, 2),
        verdict(ratios, goal),
        costs ? `${fmt(median(costs), 2)}x` : '-',
        costs ? spread(costs, 2) : '',
        costs ? verdict(costs, goal) : '',
      ];
    }),
  );
}

/**
 * What each stage adds to a request: the difference of the median times per request
 * (1/throughput) of a target and the one without that stage, and, where both were measured,
 * of the answering processes' median CPU per request.
 */
export function printStages(
  samples: Sample[],
  stages: { stage: string; with: string; without: string }[],
): void {
  say('where the time goes: microseconds per request a stage adds at saturation (medians):');
  const usOf = (target: string) => 1e6 / medianRps(samples, target);
  const cpuUsOf = (target: string) => {
    const cpu = cpuOf(of(samples, target));
    return cpu ? median(cpu) : undefined;
  };
  table(
    ['stage', 'us/request', 'with', 'without', 'cpu us/request', 'with', 'without'],
    stages.map((s) => {
      const [withCpu, withoutCpu] = [cpuUsOf(s.with), cpuUsOf(s.without)];
      const cpu = withCpu !== undefined && withoutCpu !== undefined;
      return [
        s.stage,
        fmt(usOf(s.with) - usOf(s.without), 1),
        `${s.with} ${fmt(usOf(s.with), 1)}`,
        `${s.without} ${fmt(usOf(s.without), 1)}`,
        cpu ? fmt(withCpu - withoutCpu, 1) : '-',
        cpu ? `${s.with} ${fmt(withCpu, 1)}` : '',
        cpu ? `${s.without} ${fmt(withoutCpu, 1)}` : '',
      ];
    }),
  );
}

/**
 * p99 at a fixed rate against a limit the issue set (`p99 under N ms`). With `floor` naming a
 * target driven at the same rate in the same rounds (a bare server), each other target's p99
 * is also given less the floor's of the same round: what the target adds to the tail the
 * machine gives any server at that load, where the machine alone can set the p99 past a limit.
 */
export function printFixedRate(samples: Sample[], limitMs?: number, floor?: string): void {
  const targets = [...new Set(samples.map((s) => s.target))];
  say(
    'at half the median peak rate, open loop (requests due at even intervals, latency from when ' +
      'each was due; median, min-max over the rounds; driver core: the share of its core the ' +
      'load driver used, near 1 where it, not the server, set the pace; driver stall: the ' +
      "longest the driver's own event loop was held up, a delay every request due meanwhile " +
      'is charged with):',
  );
  const floorP99 = new Map(floor ? of(samples, floor).map((s) => [s.round, s.p99]) : []);
  table(
    [
      'target',
      'req/s',
      'p50 ms',
      'p99 ms',
      '(min-max)',
      ...(floor ? [`p99 less ${floor}'s`, '(min-max)'] : []),
      'driver core',
      'driver stall ms',
      '',
    ],
    targets.map((target) => {
      const mine = of(samples, target);
      const over = mine.flatMap((s) => {
        const base = floorP99.get(s.round);
        return base === undefined || target === floor ? [] : [s.p99 - base];
      });
      const p99 = mine.map((s) => s.p99);
      const met = p99.filter((p) => p < (limitMs ?? Infinity)).length;
      const verdictText =
        limitMs === undefined
          ? ''
          : met === p99.length
            ? `goal p99 < ${limitMs} ms: met in every round`
            : met === 0
              ? `goal p99 < ${limitMs} ms: not met in any round`
              : `goal p99 < ${limitMs} ms: spread covers both sides (${met} of ${p99.length})`;
      return [
        target,
        fmt(median(mine.map((s) => s.rps))),
        fmt(median(mine.map((s) => s.p50)), 2),
        fmt(median(p99), 2),
        spread(p99, 2),
        ...(floor ? (over.length ? [fmt(median(over), 2), spread(over, 2)] : ['-', '']) : []),
        fmt(median(mine.map((s) => s.driverCpu ?? NaN)), 2),
        fmt(median(mine.map((s) => s.driverStallMs ?? NaN)), 1),
        verdictText,
      ];
    }),
  );
}
