/**
 * Fair share: which waiting job a free worker slot of a queue gets. Pure: the scheduler service
 * keeps each queue's state (slots, running and waiting jobs per tenant) in PostgreSQL and asks
 * this module for each free slot (`pickJob`) or for a batch of them (`pickJobs`).
 *
 * The rules:
 *
 * 1. **Two levels, work-conserving.** The queue's slots are shared between plan tiers by the
 *    tier's weight (the plan's `fairShareWeight`), and inside a tier between its tenants with
 *    work, equally or by their own `weight` (custom plans). A tenant's demand is what it runs
 *    plus what it has waiting; capacity a tier or tenant cannot use goes to the others at once
 *    (weighted water-filling, bounded by demand).
 * 2. **Noisy-neighbour cap.** While another tenant waits, no tenant is given more than
 *    `maxTenantShare` of the slots (default 0.2, rounded down to whole slots; 1 turns it off).
 *    The cap wins over the tier share; what it frees is water-filled to the others by their
 *    shares, again within the cap. It lifts for a tenant when no other tenant waits. Where the
 *    tenants with work are too few to fill the queue under the cap (four tenants under 20 %),
 *    the slots it would leave idle are shared equally between the tenants that still have work.
 * 3. **Share is counted in running slots.** The target of each tenant is computed by rules 1
 *    and 2 for the state at the moment of the decision; a free slot goes to the tenant furthest
 *    below its target (largest target minus running), ties to the smaller tenant id. Nothing
 *    is pre-empted: a tenant above its target just gets no new slot until it is below it.
 * 4. **Inside a tenant, priority with aging.** Jobs run in order of
 *    `enqueuedAt + level * agingMs` (level 0 interactive, 1 standard, 2 batch), then by id:
 *    every `agingMs` of waiting lifts a job one level, so a batch job waits at most
 *    `2 * agingMs` behind a stream of fresh interactive ones. The key does not move with the
 *    clock, so the service can index it (`jobOrderKey`).
 *
 * Deterministic: the same state gives the same picks, whatever the order of tenants and jobs.
 *
 * From plans to tiers: a fixed plan is a tier whose weight is the plan's `fairShareWeight` and
 * whose tenants weigh 1 each; custom-plan tenants share the tier `custom`, weighted as the
 * custom plan's default (enterprise's), each with its own effective `fairShareWeight` inside it.
 */

export const JOB_PRIORITIES = ['interactive', 'standard', 'batch'] as const;
export type JobPriority = (typeof JOB_PRIORITIES)[number];

/** The share of a queue's slots one tenant may hold while others wait, unless set per queue. */
export const DEFAULT_MAX_TENANT_SHARE = 0.2;
/** Waiting this long lifts a job one priority level. */
export const DEFAULT_AGING_MS = 60_000;

export interface WaitingJob {
  id: string;
  priority: JobPriority;
  /** When it was queued, in milliseconds since the epoch. */
  enqueuedAt: number;
}

export interface TenantQueueState {
  tenantId: string;
  /** The tenant's plan tier; tenants of a tier share that tier's part of the queue. */
  tier: string;
  /** The tier's weight (the plan's `fairShareWeight`); a tier takes the largest its tenants give. */
  tierWeight: number;
  /** The tenant's weight inside its tier (custom plans); 1 when absent. */
  weight?: number;
  /** Slots the tenant's jobs hold now. */
  running: number;
  /**
   * Jobs it may be given. The service may pass only the first few in `jobOrderKey` order; a
   * tenant whose list runs out gets no more slots in this call.
   */
  waiting: readonly WaitingJob[];
  /** How many jobs it has waiting in all, when more than `waiting` lists. */
  waitingCount?: number;
}

export interface QueueState {
  /** Worker slots of the queue. */
  slots: number;
  /** In (0, 1]; `DEFAULT_MAX_TENANT_SHARE` when absent, 1 for no cap. */
  maxTenantShare?: number;
  tenants: readonly TenantQueueState[];
}

export interface FairShareOptions {
  /** Milliseconds of waiting that lift a job one priority level (default `DEFAULT_AGING_MS`). */
  agingMs?: number;
}

export interface JobPick {
  tenantId: string;
  jobId: string;
}

const EPSILON = 1e-9;
const LEVEL: Readonly<Record<JobPriority, number>> = { interactive: 0, standard: 1, batch: 2 };

/** A job's place in its tenant's line: smaller runs first (ties by id). */
export function jobOrderKey(job: WaitingJob, agingMs = DEFAULT_AGING_MS): number {
  return job.enqueuedAt + LEVEL[job.priority] * agingMs;
}

/** The most slots one tenant may hold while another waits; Infinity when the cap is off. */
export function tenantCap(queue: Pick<QueueState, 'slots' | 'maxTenantShare'>): number {
  const share = queue.maxTenantShare ?? DEFAULT_MAX_TENANT_SHARE;
  return share >= 1 ? Infinity : Math.floor(share * queue.slots + EPSILON);
}

/** Slots each tenant should hold in this state (fractional), by tenant id. */
export function targetAllocation(queue: QueueState): Map<string, number> {
  validate(queue);
  const tenants = byTenantId(queue.tenants).map((t) => ({
    id: t.tenantId,
    tier: t.tier,
    tierWeight: t.tierWeight,
    weight: t.weight ?? 1,
    running: t.running,
    waiting: waitingOf(t),
  }));
  const target = allocate(queue.slots, tenantCap(queue), tenants);
  return new Map(tenants.map((t, i) => [t.id, target[i]]));
}

/** The job the next free slot gets, or null when no tenant has one to give. */
export function pickJob(queue: QueueState, options: FairShareOptions = {}): JobPick | null {
  return pickJobs(queue, 1, options)[0] ?? null;
}

/**
 * The jobs `count` free slots get, in the order they were given, as if `pickJob` were asked
 * once per slot with each pick moved from waiting to running. Never more than the queue's
 * slots not running.
 */
export function pickJobs(
  queue: QueueState,
  count: number,
  options: FairShareOptions = {},
): JobPick[] {
  validate(queue);
  const agingMs = options.agingMs ?? DEFAULT_AGING_MS;
  if (!(agingMs > 0) || !Number.isFinite(agingMs)) throw new RangeError('agingMs must be > 0');
  const cap = tenantCap(queue);
  const tenants: WorkingTenant[] = byTenantId(queue.tenants).map((t) => ({
    id: t.tenantId,
    tier: t.tier,
    tierWeight: t.tierWeight,
    weight: t.weight ?? 1,
    running: t.running,
    waiting: waitingOf(t),
    jobs: t.waiting,
    sorted: false,
    next: 0,
  }));
  const busy = tenants.reduce((sum, t) => sum + t.running, 0);
  const free = Math.max(0, Math.min(Math.floor(count), queue.slots - busy));
  const picks: JobPick[] = [];
  let targets = allocate(queue.slots, cap, tenants);
  for (let i = 0; i < free; i++) {
    const chosen = furthestBelowTarget(tenants, targets);
    if (!chosen) break;
    if (!chosen.sorted) {
      chosen.jobs = [...chosen.jobs].sort((a, b) => byOrderKey(a, b, agingMs));
      chosen.sorted = true;
    }
    const job = chosen.jobs[chosen.next++];
    picks.push({ tenantId: chosen.id, jobId: job.id });
    chosen.running += 1;
    chosen.waiting -= 1;
    // demand is unchanged by a pick; only whether others wait (and so the cap) can change
    if (chosen.waiting === 0) targets = allocate(queue.slots, cap, tenants);
  }
  return picks;
}

interface TenantDemand {
  id: string;
  tier: string;
  tierWeight: number;
  weight: number;
  running: number;
  waiting: number;
}

interface WorkingTenant extends TenantDemand {
  jobs: readonly WaitingJob[];
  sorted: boolean;
  next: number;
}

function furthestBelowTarget(
  tenants: readonly WorkingTenant[],
  targets: Float64Array,
): WorkingTenant | undefined {
  let best: WorkingTenant | undefined;
  let bestDeficit = 0;
  for (let i = 0; i < tenants.length; i++) {
    const t = tenants[i];
    if (t.next >= t.jobs.length || t.waiting <= 0) continue;
    const deficit = targets[i] - t.running;
    if (deficit <= EPSILON) continue;
    // deficits within rounding of each other are a tie, which the smaller id wins
    const tie = best !== undefined && Math.abs(deficit - bestDeficit) <= EPSILON;
    if (!best || (tie ? t.id < best.id : deficit > bestDeficit)) {
      best = t;
      bestDeficit = deficit;
    }
  }
  return best;
}

/** The target of each tenant, by position in `tenants`. */
function allocate(slots: number, cap: number, tenants: readonly TenantDemand[]): Float64Array {
  const n = tenants.length;
  const target = new Float64Array(n);
  let waiters = 0;
  let demandTotal = 0;
  for (const t of tenants) {
    if (t.waiting > 0) waiters += 1;
    demandTotal += t.running + t.waiting;
  }
  if (demandTotal === 0 || slots === 0) return target;

  const bound = new Float64Array(n);
  const tiers = new Map<string, { weight: number; bound: number; members: number[] }>();
  for (let i = 0; i < n; i++) {
    const t = tenants[i];
    const demand = t.running + t.waiting;
    if (demand === 0) continue;
    const othersWait = waiters - (t.waiting > 0 ? 1 : 0) > 0;
    bound[i] = othersWait ? Math.min(demand, cap) : demand;
    const tier = tiers.get(t.tier) ?? { weight: 0, bound: 0, members: [] };
    tier.weight = Math.max(tier.weight, t.tierWeight);
    tier.bound += bound[i];
    tier.members.push(i);
    tiers.set(t.tier, tier);
  }

  // level 1: tiers by weight, each bounded by what its tenants may take
  const tierList = [...tiers.entries()].sort(([a], [b]) => compareIds(a, b));
  const tierShares = waterFill(
    slots,
    tierList.map(([, tier]) => tier.weight),
    tierList.map(([, tier]) => tier.bound),
  );
  // level 2: tenants inside their tier
  tierList.forEach(([, tier], k) => {
    const shares = waterFill(
      tierShares[k],
      tier.members.map((i) => tenants[i].weight),
      tier.members.map((i) => bound[i]),
    );
    tier.members.forEach((i, m) => (target[i] = shares[m]));
  });

  // slots the cap leaves idle go equally to the tenants that still have work for them
  let given = 0;
  for (let i = 0; i < n; i++) given += target[i];
  const idle = Math.min(slots, demandTotal) - given;
  if (idle > EPSILON) {
    const unmet: number[] = [];
    for (let i = 0; i < n; i++) {
      if (tenants[i].running + tenants[i].waiting - target[i] > EPSILON) unmet.push(i);
    }
    const extra = waterFill(
      idle,
      unmet.map(() => 1),
      unmet.map((i) => tenants[i].running + tenants[i].waiting - target[i]),
    );
    unmet.forEach((i, m) => (target[i] += extra[m]));
  }
  return target;
}

/**
 * Weighted max-min fair division of `capacity`, no item above its bound; items in a stable
 * order, which breaks ties between equal bounds.
 */
function waterFill(
  capacity: number,
  weights: readonly number[],
  bounds: readonly number[],
): Float64Array {
  const n = weights.length;
  const out = new Float64Array(n);
  let totalWeight = 0;
  for (const w of weights) totalWeight += w;
  // the common case under saturation: no bound is reached, everyone gets its weight's part
  let binds = false;
  for (let i = 0; i < n && !binds; i++) binds = bounds[i] * totalWeight < capacity * weights[i];
  if (!binds) {
    for (let i = 0; i < n; i++) out[i] = (capacity * weights[i]) / totalWeight;
    return out;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => bounds[a] / weights[a] - bounds[b] / weights[b] || a - b,
  );
  let left = capacity;
  let weight = totalWeight;
  for (const i of order) {
    const give = Math.max(0, Math.min(bounds[i], (left * weights[i]) / weight));
    out[i] = give;
    left -= give;
    weight -= weights[i];
  }
  return out;
}

/** Tenants in id order, so that the arithmetic and the picks do not depend on input order. */
function byTenantId(tenants: readonly TenantQueueState[]): TenantQueueState[] {
  return [...tenants].sort((a, b) => compareIds(a.tenantId, b.tenantId));
}

function waitingOf(t: TenantQueueState): number {
  return Math.max(t.waiting.length, t.waitingCount ?? 0);
}

function byOrderKey(a: WaitingJob, b: WaitingJob, agingMs: number): number {
  return jobOrderKey(a, agingMs) - jobOrderKey(b, agingMs) || compareIds(a.id, b.id);
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function validate(queue: QueueState): void {
  if (!Number.isInteger(queue.slots) || queue.slots < 0) {
    throw new RangeError('slots must be a whole number >= 0');
  }
  const share = queue.maxTenantShare ?? DEFAULT_MAX_TENANT_SHARE;
  if (!(share > 0 && share <= 1)) throw new RangeError('maxTenantShare must be in (0, 1]');
  const seen = new Set<string>();
  for (const t of queue.tenants) {
    if (seen.has(t.tenantId)) throw new RangeError(`tenant ${t.tenantId} is listed twice`);
    seen.add(t.tenantId);
    if (!Number.isInteger(t.running) || t.running < 0) {
      throw new RangeError(`running of ${t.tenantId} must be a whole number >= 0`);
    }
    for (const w of [t.tierWeight, t.weight ?? 1]) {
      if (!(w > 0) || !Number.isFinite(w)) {
        throw new RangeError(`weights of ${t.tenantId} must be > 0`);
      }
    }
  }
}
