/**
 * `npm run bench:fairness`: the scheduler's fair-share core driven by a discrete-event
 * simulation of a queue of worker slots. Prints (1) the share of completed work per tenant
 * over successive windows for one busy tenant per tier on an uncapped queue, against the
 * 50/30/15/5 the plans' weights promise, and the largest deviation; (2) the same for one
 * enterprise tenant against ten starter tenants under the 20 % cap; (3) the time of one
 * decision (`pickJob`) with 10, 100 and 1,000 tenants waiting. Simulated time, seeded random:
 * figures only, never pass/fail. BENCH_FAIRNESS_WINDOWS sets the windows of (1) and (2)
 * (default 12, five simulated minutes each).
 */
import {
  JOB_PRIORITIES,
  pickJob,
  pickJobs,
  targetAllocation,
  type QueueState,
  type TenantQueueState,
  type WaitingJob,
} from '../apps/scheduler/src/fair-share/fair-share';
import { say, sayMachine } from './support/report';

const WINDOWS = Number(process.env.BENCH_FAIRNESS_WINDOWS ?? 12) || 12;
const WINDOW_S = 300;
const SLOTS = 100;
/** Jobs last 1 to 60 s, uniformly. */
const MIN_JOB_S = 1;
const MAX_JOB_S = 60;
/** The jobs each tenant lists to the core; the rest of its backlog is only counted. */
const LISTED = 8;
/** The plans' `fairShareWeight` (apps/tenants plan catalogue). */
const WEIGHT = { enterprise: 50, professional: 30, starter: 15, free: 5 } as const;
type Tier = keyof typeof WEIGHT;

/** mulberry32: a small seeded generator, so every run simulates the same jobs. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface SimTenant {
  state: TenantQueueState & { waiting: WaitingJob[] };
  backlog: number;
  nextJob: number;
}

interface Running {
  tenant: SimTenant;
  endsAt: number;
  duration: number;
}

/**
 * A queue of `SLOTS` slots whose tenants never run out of work: jobs finish at random, and each
 * freed slot is refilled by the core at once. Returns the slot-seconds of work each tenant
 * completed in each window.
 */
function simulate(
  tenants: { id: string; tier: Tier }[],
  maxTenantShare: number,
  seed: number,
): { ids: string[]; windows: Map<string, number>[]; target: Map<string, number> } {
  const rand = random(seed);
  const sims: SimTenant[] = tenants.map((t) => ({
    state: {
      tenantId: t.id,
      tier: t.tier,
      tierWeight: WEIGHT[t.tier],
      running: 0,
      waiting: [],
      waitingCount: 0,
    },
    backlog: 100_000,
    nextJob: 0,
  }));
  const byId = new Map(sims.map((s) => [s.state.tenantId, s]));
  const queue = (): QueueState => ({
    slots: SLOTS,
    maxTenantShare,
    tenants: sims.map((s) => s.state),
  });
  const list = (s: SimTenant, now: number) => {
    while (s.state.waiting.length < LISTED && s.backlog > s.state.waiting.length) {
      const priority = JOB_PRIORITIES[Math.floor(rand() * JOB_PRIORITIES.length)];
      s.state.waiting.push({ id: `${s.state.tenantId}-${s.nextJob++}`, priority, enqueuedAt: now });
    }
    s.state.waitingCount = s.backlog;
  };
  const running: Running[] = [];
  const refill = (now: number) => {
    for (const s of sims) list(s, now);
    for (const pick of pickJobs(queue(), SLOTS - running.length)) {
      const s = byId.get(pick.tenantId)!;
      s.state.waiting = s.state.waiting.filter((j) => j.id !== pick.jobId);
      s.backlog -= 1;
      s.state.running += 1;
      const duration = MIN_JOB_S + rand() * (MAX_JOB_S - MIN_JOB_S);
      running.push({ tenant: s, endsAt: now + duration, duration });
    }
  };

  // every tenant has work throughout, so this target holds for the whole run
  for (const s of sims) list(s, 0);
  const target = targetAllocation(queue());
  const windows = Array.from({ length: WINDOWS }, () => new Map<string, number>());
  refill(0);
  for (;;) {
    let first = 0;
    for (let i = 1; i < running.length; i++)
      if (running[i].endsAt < running[first].endsAt) first = i;
    const done = running[first];
    const window = Math.floor(done.endsAt / WINDOW_S);
    if (window >= WINDOWS) break;
    running.splice(first, 1);
    done.tenant.state.running -= 1;
    const id = done.tenant.state.tenantId;
    windows[window].set(id, (windows[window].get(id) ?? 0) + done.duration);
    refill(done.endsAt);
  }
  return { ids: sims.map((s) => s.state.tenantId), windows, target };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function printShares(
  columns: { label: string; ids: string[] }[],
  run: ReturnType<typeof simulate>,
): void {
  const total = (w: Map<string, number>) => [...w.values()].reduce((a, b) => a + b, 0);
  const share = (w: Map<string, number>, ids: string[]) =>
    ids.reduce((sum, id) => sum + (w.get(id) ?? 0), 0) / ids.length / total(w);
  const targetShare = (ids: string[]) =>
    ids.reduce((sum, id) => sum + run.target.get(id)!, 0) / ids.length / SLOTS;
  const widths = columns.map((c) => Math.max(c.label.length, 6));
  const row = (first: string, cells: string[], last: string) =>
    say(
      `${first.padEnd(11)}  ${cells.map((c, i) => c.padStart(widths[i])).join('  ')}  ${last.padStart(8)}`,
    );
  row(
    'window',
    columns.map((c) => c.label),
    'max dev',
  );
  let worst = 0;
  run.windows.forEach((w, i) => {
    const shares = columns.map((c) => share(w, c.ids));
    const dev = Math.max(...columns.map((c, k) => Math.abs(shares[k] - targetShare(c.ids))));
    worst = Math.max(worst, dev);
    const from = (i * WINDOW_S) / 60;
    row(`${from}-${from + WINDOW_S / 60} min`, shares.map(pct), `${(100 * dev).toFixed(2)}pp`);
  });
  row(
    'target',
    columns.map((c) => pct(targetShare(c.ids))),
    '',
  );
  say(
    `largest deviation from target over ${run.windows.length} windows: ${(100 * worst).toFixed(2)} percentage points`,
  );
  say('');
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** `pickJob` on a 1,000-slot queue with one slot free and `n` tenants waiting, mixed tiers. */
function decisionTime(n: number): { p50: number; p99: number; batchP50: number } {
  const rand = random(n);
  const tiers = Object.keys(WEIGHT) as Tier[];
  const states: QueueState[] = Array.from({ length: 16 }, () => {
    const tenants: TenantQueueState[] = Array.from({ length: n }, (_, i) => {
      const tier = tiers[i % tiers.length];
      return {
        tenantId: `tenant-${String(i).padStart(5, '0')}`,
        tier,
        tierWeight: WEIGHT[tier],
        running: 0,
        waiting: Array.from({ length: 4 }, (_, j) => ({
          id: `job-${i}-${j}`,
          priority: JOB_PRIORITIES[Math.floor(rand() * 3)],
          enqueuedAt: Math.floor(rand() * 600_000),
        })),
        waitingCount: 1 + Math.floor(rand() * 50),
      };
    });
    for (let k = 0; k < 999; k++) tenants[Math.floor(rand() * n)].running += 1;
    return { slots: 1_000, maxTenantShare: 0.2, tenants };
  });
  const time = (fn: () => unknown, runs: number) => {
    const out: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = process.hrtime.bigint();
      fn();
      out.push(Number(process.hrtime.bigint() - start) / 1_000);
    }
    return out.sort((a, b) => a - b);
  };
  let i = 0;
  const next = () => states[i++ % states.length];
  time(() => pickJob(next()), 200);
  const picks = time(() => pickJob(next()), n >= 1_000 ? 2_000 : 5_000);
  // a batch: the same tenants on a queue with 100 slots free
  const batch = time(() => {
    const s = next();
    return pickJobs({ ...s, slots: s.slots + 99 }, 100);
  }, 200);
  return { p50: quantile(picks, 0.5), p99: quantile(picks, 0.99), batchP50: quantile(batch, 0.5) };
}

function main(): void {
  sayMachine();
  say(
    `simulation: ${SLOTS} slots, jobs of ${MIN_JOB_S}-${MAX_JOB_S} s (uniform), every tenant with a deep backlog, ${WINDOWS} windows of ${WINDOW_S / 60} min; share = slot-seconds of work completed in the window`,
  );
  say('');

  say('1. one busy tenant per tier, no cap (maxTenantShare 1)');
  const tiers = (Object.keys(WEIGHT) as Tier[]).map((tier) => ({ id: tier, tier }));
  printShares(
    tiers.map((t) => ({ label: t.id, ids: [t.id] })),
    simulate(tiers, 1, 1),
  );

  say('2. one enterprise tenant against ten starter tenants, 20 % cap');
  const starters = Array.from({ length: 10 }, (_, i) => ({
    id: `starter-${i}`,
    tier: 'starter' as const,
  }));
  const run = simulate([{ id: 'enterprise', tier: 'enterprise' }, ...starters], 0.2, 2);
  printShares(
    [
      { label: 'enterprise', ids: ['enterprise'] },
      { label: 'each starter (mean)', ids: starters.map((s) => s.id) },
    ],
    run,
  );
  const perStarter = run.windows.flatMap((w) => {
    const total = [...w.values()].reduce((a, b) => a + b, 0);
    return starters.map((s) => (w.get(s.id) ?? 0) / total);
  });
  say(
    `a single starter tenant over all windows: min ${pct(Math.min(...perStarter))}, max ${pct(Math.max(...perStarter))} (target ${pct(run.target.get('starter-0')! / SLOTS)})`,
  );
  say('');

  say('3. decision time, 1,000-slot queue, 20 % cap, tenants of all four tiers (microseconds)');
  say(
    `${'waiting tenants'.padEnd(16)}  ${'pickJob p50'.padStart(11)}  ${'p99'.padStart(8)}  ${'pickJobs(100) p50'.padStart(17)}`,
  );
  for (const n of [10, 100, 1_000]) {
    const t = decisionTime(n);
    say(
      `${String(n).padEnd(16)}  ${t.p50.toFixed(1).padStart(11)}  ${t.p99.toFixed(1).padStart(8)}  ${t.batchP50.toFixed(1).padStart(17)}`,
    );
  }
}

main();
