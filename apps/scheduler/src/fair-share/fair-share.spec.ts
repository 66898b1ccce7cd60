import fc from 'fast-check';
import {
  DEFAULT_AGING_MS,
  jobOrderKey,
  pickJob,
  pickJobs,
  targetAllocation,
  tenantCap,
  type JobPriority,
  type QueueState,
  type TenantQueueState,
  type WaitingJob,
} from './fair-share';

/** The plans' `fairShareWeight` (apps/tenants plan catalogue). */
const TIER_WEIGHT = { enterprise: 50, professional: 30, starter: 15, free: 5 } as const;
type Tier = keyof typeof TIER_WEIGHT;

const jobs = (tenant: string, n: number, priority: JobPriority = 'standard', at = 0) =>
  Array.from({ length: n }, (_, i): WaitingJob => ({
    id: `${tenant}-${String(i).padStart(6, '0')}`,
    priority,
    enqueuedAt: at + i,
  }));

const tenant = (
  id: string,
  tier: Tier,
  waiting: number,
  over: Partial<TenantQueueState> = {},
): TenantQueueState => ({
  tenantId: id,
  tier,
  tierWeight: TIER_WEIGHT[tier],
  running: 0,
  waiting: jobs(id, waiting),
  ...over,
});

const oneBusyTenantPerTier = (waiting = 500) =>
  (Object.keys(TIER_WEIGHT) as Tier[]).map((tier) => tenant(tier, tier, waiting));

const count = (picks: { tenantId: string }[]) => {
  const out: Record<string, number> = {};
  for (const p of picks) out[p.tenantId] = (out[p.tenantId] ?? 0) + 1;
  return out;
};

/** A queue whose state the tests change the way the service would: picks run, jobs finish. */
class SimQueue {
  readonly tenants: TenantQueueState[];

  constructor(
    readonly slots: number,
    readonly maxTenantShare: number,
    tenants: TenantQueueState[],
  ) {
    this.tenants = tenants.map((t) => ({ ...t, waiting: [...t.waiting] }));
  }

  get state(): QueueState {
    return { slots: this.slots, maxTenantShare: this.maxTenantShare, tenants: this.tenants };
  }

  get running(): number {
    return this.tenants.reduce((sum, t) => sum + t.running, 0);
  }

  apply(pick: { tenantId: string; jobId: string }): void {
    const t = this.tenants.find((x) => x.tenantId === pick.tenantId)!;
    const at = t.waiting.findIndex((j) => j.id === pick.jobId);
    expect(at).toBeGreaterThanOrEqual(0);
    t.waiting = t.waiting.filter((_, i) => i !== at);
    t.running += 1;
  }

  /** The job that finishes is the `nth` running slot, counted across tenants in order. */
  complete(nth: number): void {
    let left = nth % this.running;
    for (const t of this.tenants) {
      if (left < t.running) {
        t.running -= 1;
        return;
      }
      left -= t.running;
    }
  }

  /** Fills every free slot one `pickJob` at a time; calls `check` before each pick is applied. */
  refill(check: (pick: { tenantId: string; jobId: string }) => void = () => undefined): void {
    for (;;) {
      const pick = pickJob(this.state);
      if (!pick) return;
      check(pick);
      this.apply(pick);
    }
  }
}

describe('fair share', () => {
  describe(targetAllocation.name, () => {
    it('shares a saturated uncapped queue 50/30/15/5 between one tenant per tier', () => {
      const target = targetAllocation({
        slots: 100,
        maxTenantShare: 1,
        tenants: oneBusyTenantPerTier(),
      });
      expect(Object.fromEntries(target)).toEqual({
        enterprise: 50,
        professional: 30,
        starter: 15,
        free: 5,
      });
    });

    it('holds one enterprise tenant to the 20 % cap against ten starter tenants', () => {
      const starters = Array.from({ length: 10 }, (_, i) => tenant(`s${i}`, 'starter', 100));
      const target = targetAllocation({
        slots: 100,
        tenants: [tenant('ent', 'enterprise', 500), ...starters],
      });
      expect(target.get('ent')).toBe(20);
      for (const s of starters) expect(target.get(s.tenantId)).toBeCloseTo(8, 9);
    });

    it('shares the slots the cap would leave idle equally: four tenants under 20 % get 25 each', () => {
      const target = targetAllocation({ slots: 100, tenants: oneBusyTenantPerTier() });
      for (const tier of Object.keys(TIER_WEIGHT)) expect(target.get(tier)).toBeCloseTo(25, 9);
    });

    it('lifts the cap for a tenant alone with work', () => {
      const target = targetAllocation({ slots: 100, tenants: [tenant('solo', 'free', 1_000)] });
      expect(target.get('solo')).toBe(100);
    });

    it('gives a tenant without work nothing and its share to the others', () => {
      const tenants = oneBusyTenantPerTier().map((t) =>
        t.tenantId === 'enterprise' ? { ...t, waiting: [] } : t,
      );
      const target = targetAllocation({ slots: 100, maxTenantShare: 1, tenants });
      expect(target.get('enterprise')).toBe(0);
      expect(target.get('professional')).toBeCloseTo(60, 9);
      expect(target.get('starter')).toBeCloseTo(30, 9);
      expect(target.get('free')).toBeCloseTo(10, 9);
    });

    it('passes what a tenant cannot use to the others at once', () => {
      const tenants = [tenant('ent', 'enterprise', 4), tenant('pro', 'professional', 500)];
      const target = targetAllocation({ slots: 100, maxTenantShare: 1, tenants });
      expect(target.get('ent')).toBe(4);
      expect(target.get('pro')).toBe(96);
    });

    it('keeps what a tenant runs in its target when it has nothing waiting', () => {
      const tenants = [
        tenant('ent', 'enterprise', 0, { running: 7 }),
        tenant('pro', 'professional', 500),
      ];
      const target = targetAllocation({ slots: 100, maxTenantShare: 1, tenants });
      expect(target.get('ent')).toBe(7);
      expect(target.get('pro')).toBe(93);
    });

    it('shares a tier between its tenants by their own weights', () => {
      const custom = (id: string, weight: number): TenantQueueState => ({
        ...tenant(id, 'enterprise', 500),
        tier: 'custom',
        weight,
      });
      const target = targetAllocation({
        slots: 100,
        maxTenantShare: 1,
        tenants: [custom('big', 3), custom('small', 1)],
      });
      expect(target.get('big')).toBe(75);
      expect(target.get('small')).toBe(25);
    });

    it('shares a tier equally between its tenants and the tiers by weight', () => {
      const target = targetAllocation({
        slots: 130,
        maxTenantShare: 1,
        tenants: [
          tenant('e1', 'enterprise', 500),
          tenant('e2', 'enterprise', 500),
          tenant('s1', 'starter', 500),
        ],
      });
      expect(target.get('e1')).toBeCloseTo(50, 9);
      expect(target.get('e2')).toBeCloseTo(50, 9);
      expect(target.get('s1')).toBeCloseTo(30, 9);
    });

    it('counts the backlog a tenant reports beyond the jobs it lists', () => {
      const tenants = [
        tenant('ent', 'enterprise', 1, { waitingCount: 1_000 }),
        tenant('pro', 'professional', 1, { waitingCount: 1_000 }),
      ];
      const target = targetAllocation({ slots: 80, maxTenantShare: 1, tenants });
      expect(target.get('ent')).toBe(50);
      expect(target.get('pro')).toBe(30);
    });

    it('refuses a state it cannot decide on', () => {
      expect(() => targetAllocation({ slots: -1, tenants: [] })).toThrow(RangeError);
      expect(() => targetAllocation({ slots: 1, maxTenantShare: 0, tenants: [] })).toThrow(
        RangeError,
      );
      expect(() =>
        targetAllocation({ slots: 1, tenants: [tenant('a', 'free', 1), tenant('a', 'free', 1)] }),
      ).toThrow(/twice/);
      expect(() =>
        targetAllocation({ slots: 1, tenants: [tenant('a', 'free', 1, { tierWeight: 0 })] }),
      ).toThrow(RangeError);
    });
  });

  describe(tenantCap.name, () => {
    it('is a whole number of slots, 20 % by default, none at 1', () => {
      expect(tenantCap({ slots: 100 })).toBe(20);
      expect(tenantCap({ slots: 12 })).toBe(2);
      expect(tenantCap({ slots: 100, maxTenantShare: 0.35 })).toBe(35);
      expect(tenantCap({ slots: 100, maxTenantShare: 1 })).toBe(Infinity);
    });
  });

  describe(pickJobs.name, () => {
    it('runs 50/30/15/5 when one busy tenant per tier saturates an uncapped queue of 100', () => {
      const picks = pickJobs(
        { slots: 100, maxTenantShare: 1, tenants: oneBusyTenantPerTier() },
        100,
      );
      expect(count(picks)).toEqual({ enterprise: 50, professional: 30, starter: 15, free: 5 });
    });

    it('stays at 50/30/15/5 while jobs finish at random and the core refills the slots', () => {
      const queue = new SimQueue(100, 1, oneBusyTenantPerTier(5_000));
      queue.refill();
      let seed = 7;
      for (let step = 0; step < 500; step++) {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        queue.complete(seed);
        queue.refill();
        expect(queue.tenants.map((t) => t.running)).toEqual([50, 30, 15, 5]);
      }
    });

    it('runs one enterprise tenant at 20 and ten starter tenants at 8 under the 20 % cap', () => {
      const starters = Array.from({ length: 10 }, (_, i) => tenant(`s${i}`, 'starter', 100));
      const picks = pickJobs(
        { slots: 100, tenants: [tenant('ent', 'enterprise', 500), ...starters] },
        100,
      );
      const got = count(picks);
      expect(got.ent).toBe(20);
      for (const s of starters) expect(got[s.tenantId]).toBe(8);
    });

    it('runs four busy tenants at 25 each under a 20 % cap rather than leave slots idle', () => {
      const picks = pickJobs({ slots: 100, tenants: oneBusyTenantPerTier() }, 100);
      expect(count(picks)).toEqual({ enterprise: 25, professional: 25, starter: 25, free: 25 });
    });

    it('gives a lone tenant every slot', () => {
      const picks = pickJobs({ slots: 100, tenants: [tenant('solo', 'free', 1_000)] }, 100);
      expect(picks).toHaveLength(100);
      expect(count(picks)).toEqual({ solo: 100 });
    });

    it('gives a tenant without waiting work nothing and its share to the others', () => {
      const tenants = oneBusyTenantPerTier().map((t) =>
        t.tenantId === 'enterprise' ? { ...t, waiting: [] } : t,
      );
      const picks = pickJobs({ slots: 100, maxTenantShare: 1, tenants }, 100);
      expect(count(picks)).toEqual({ professional: 60, starter: 30, free: 10 });
    });

    it('hands out no more slots than the queue has free', () => {
      const tenants = [tenant('a', 'starter', 50, { running: 8 }), tenant('b', 'free', 50)];
      expect(pickJobs({ slots: 10, maxTenantShare: 1, tenants }, 5)).toHaveLength(2);
    });

    it('stops giving a tenant slots when the jobs it listed run out', () => {
      const tenants = [tenant('a', 'starter', 2, { waitingCount: 90 })];
      expect(pickJobs({ slots: 10, tenants }, 10)).toHaveLength(2);
    });

    it('gives a slot to the tenant furthest below its target', () => {
      const tenants = [
        tenant('ent', 'enterprise', 10, { running: 49 }),
        tenant('pro', 'professional', 10, { running: 20 }),
      ];
      // targets 50 and 30 of 80: pro is 10 below, ent 1
      expect(pickJob({ slots: 80, maxTenantShare: 1, tenants })?.tenantId).toBe('pro');
    });

    it('returns null when nothing waits or no slot is free', () => {
      expect(pickJob({ slots: 4, tenants: [tenant('a', 'free', 0)] })).toBeNull();
      expect(pickJob({ slots: 4, tenants: [tenant('a', 'free', 3, { running: 4 })] })).toBeNull();
    });
  });

  describe('priority inside a tenant', () => {
    it('runs interactive before standard before batch', () => {
      const waiting: WaitingJob[] = [
        { id: 'b', priority: 'batch', enqueuedAt: 0 },
        { id: 's', priority: 'standard', enqueuedAt: 10 },
        { id: 'i', priority: 'interactive', enqueuedAt: 20 },
      ];
      const picks = pickJobs({ slots: 3, tenants: [{ ...tenant('t', 'free', 0), waiting }] }, 3);
      expect(picks.map((p) => p.jobId)).toEqual(['i', 's', 'b']);
    });

    it('lifts a job one level per aging period', () => {
      const batch: WaitingJob = { id: 'b', priority: 'batch', enqueuedAt: 0 };
      const fresh: WaitingJob = { id: 'i', priority: 'interactive', enqueuedAt: 0 };
      expect(jobOrderKey(batch, 1_000) - jobOrderKey(fresh, 1_000)).toBe(2_000);
      expect(jobOrderKey(batch)).toBe(2 * DEFAULT_AGING_MS);
    });

    it('picks a batch job once it has waited two aging periods under a stream of interactive ones', () => {
      const agingMs = 1_000;
      const tick = 100;
      let waiting: WaitingJob[] = [{ id: 'batch', priority: 'batch', enqueuedAt: 0 }];
      let pickedAt: number | undefined;
      // one fresh interactive job arrives and one slot frees every tick
      for (let now = 0; pickedAt === undefined && now <= 10 * agingMs; now += tick) {
        waiting.push({ id: `i${now}`, priority: 'interactive', enqueuedAt: now });
        const pick = pickJob(
          { slots: 1, tenants: [{ ...tenant('t', 'free', 0), waiting }] },
          { agingMs },
        )!;
        waiting = waiting.filter((j) => j.id !== pick.jobId);
        if (pick.jobId === 'batch') pickedAt = now;
      }
      expect(pickedAt).toBe(2 * agingMs);
    });

    it('takes each tenant’s jobs in order of their aged priority, ties by id', () => {
      const job = fc.record({
        priority: fc.constantFrom<JobPriority>('interactive', 'standard', 'batch'),
        enqueuedAt: fc.integer({ min: 0, max: 10_000 }),
      });
      fc.assert(
        fc.property(
          fc.array(job, { minLength: 1, maxLength: 40 }),
          fc.integer({ min: 1, max: 5_000 }),
          (specs, agingMs) => {
            const waiting = specs.map((s, i): WaitingJob => ({ ...s, id: `j${100 + i}` }));
            const picks = pickJobs(
              { slots: waiting.length, tenants: [{ ...tenant('t', 'free', 0), waiting }] },
              waiting.length,
              { agingMs },
            );
            const byId = new Map(waiting.map((j) => [j.id, j]));
            const keys = picks.map((p) => [jobOrderKey(byId.get(p.jobId)!, agingMs), p.jobId]);
            const sorted = [...keys].sort(
              (a, b) => (a[0] as number) - (b[0] as number) || (a[1] < b[1] ? -1 : 1),
            );
            expect(keys).toEqual(sorted);
          },
        ),
      );
    });
  });

  describe('properties', () => {
    const tiers = fc.constantFrom<Tier>('enterprise', 'professional', 'starter', 'free');
    interface TenantSpec {
      tier: Tier;
      weight: number;
      backlog: number;
      priority: JobPriority;
    }
    const tenantSpec: fc.Arbitrary<TenantSpec> = fc.record({
      tier: tiers,
      weight: fc.integer({ min: 1, max: 5 }),
      backlog: fc.integer({ min: 0, max: 40 }),
      priority: fc.constantFrom<JobPriority>('interactive', 'standard', 'batch'),
    });
    const queueSpec = fc.record({
      slots: fc.integer({ min: 1, max: 60 }),
      share: fc.constantFrom(0.1, 0.2, 0.25, 0.5, 1),
      tenants: fc.array(tenantSpec, { minLength: 1, maxLength: 10 }),
    });
    const build = (spec: readonly TenantSpec[], backlogFloor = 0) =>
      spec.map((s, i) => ({
        ...tenant(`t${i}`, s.tier, Math.max(s.backlog, backlogFloor)),
        weight: s.weight,
        waiting: jobs(`t${i}`, Math.max(s.backlog, backlogFloor), s.priority),
      }));
    const completions = fc.array(fc.nat(), { minLength: 1, maxLength: 60 });

    /** What each tenant may take before the idle slots are shared: its demand, within the cap. */
    const bounds = (q: SimQueue) => {
      const cap = tenantCap(q.state);
      const waiters = q.tenants.filter((t) => t.waiting.length > 0).length;
      return q.tenants.map((t) => {
        const othersWait = waiters - (t.waiting.length > 0 ? 1 : 0) > 0;
        const demand = t.running + t.waiting.length;
        return othersWait ? Math.min(demand, cap) : demand;
      });
    };

    it('never leaves a slot idle while work waits', () => {
      fc.assert(
        fc.property(queueSpec, completions, (spec, done) => {
          const q = new SimQueue(spec.slots, spec.share, build(spec.tenants));
          const fill = () => {
            q.refill();
            const waiting = q.tenants.reduce((sum, t) => sum + t.waiting.length, 0);
            expect(q.running === q.slots || waiting === 0).toBe(true);
          };
          fill();
          for (const n of done) {
            if (q.running === 0) break;
            q.complete(n);
            fill();
          }
        }),
      );
    });

    it('never gives a tenant a slot over the cap while others wait, unless the cap cannot be met', () => {
      fc.assert(
        fc.property(queueSpec, completions, (spec, done) => {
          const q = new SimQueue(spec.slots, spec.share, build(spec.tenants));
          const cap = tenantCap(q.state);
          const check = (pick: { tenantId: string }) => {
            const t = q.tenants.find((x) => x.tenantId === pick.tenantId)!;
            const othersWait = q.tenants.some((x) => x !== t && x.waiting.length > 0);
            if (othersWait && t.running + 1 > cap) {
              const capCanBeMet = bounds(q).reduce((a, b) => a + b, 0) >= q.slots;
              expect(capCanBeMet).toBe(false);
            }
          };
          q.refill(check);
          for (const n of done) {
            if (q.running === 0) break;
            q.complete(n);
            q.refill(check);
          }
        }),
      );
    });

    it('keeps every tenant within one slot of its target under saturation, so shares converge', () => {
      fc.assert(
        fc.property(
          queueSpec,
          fc.array(fc.nat(), { minLength: 50, maxLength: 150 }),
          (spec, done) => {
            // deep backlogs: every tenant has work for the whole run
            const q = new SimQueue(spec.slots, spec.share, build(spec.tenants, 200));
            const target = targetAllocation(q.state);
            const held = new Map(q.tenants.map((t) => [t.tenantId, 0]));
            q.refill();
            for (const n of done) {
              q.complete(n);
              q.refill();
              expect(q.running).toBe(q.slots);
              for (const t of q.tenants) {
                expect(Math.abs(t.running - target.get(t.tenantId)!)).toBeLessThan(1);
                held.set(t.tenantId, held.get(t.tenantId)! + t.running);
              }
            }
            // the running share over time is within 1/slots of the target share
            for (const [id, slotSteps] of held) {
              const share = slotSteps / (done.length * q.slots);
              expect(Math.abs(share - target.get(id)! / q.slots)).toBeLessThan(1 / q.slots);
            }
          },
        ),
        { numRuns: 40 },
      );
    });

    it('gives the same picks whatever the order of tenants and jobs', () => {
      fc.assert(
        fc.property(queueSpec, fc.nat(), (spec, seed) => {
          const tenants = build(spec.tenants);
          const shuffled = [...tenants]
            .map((t, i) => ({
              t: { ...t, waiting: [...t.waiting].reverse() },
              k: (i * 7 + seed) % 11,
            }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.t);
          const a = pickJobs(
            { slots: spec.slots, maxTenantShare: spec.share, tenants },
            spec.slots,
          );
          const b = pickJobs(
            { slots: spec.slots, maxTenantShare: spec.share, tenants: shuffled },
            spec.slots,
          );
          expect(b).toEqual(a);
        }),
      );
    });

    it('picks a batch of slots exactly as one pick per slot would', () => {
      fc.assert(
        fc.property(queueSpec, (spec) => {
          const tenants = build(spec.tenants);
          const batch = pickJobs(
            { slots: spec.slots, maxTenantShare: spec.share, tenants },
            spec.slots,
          );
          const q = new SimQueue(spec.slots, spec.share, tenants);
          const one: { tenantId: string; jobId: string }[] = [];
          q.refill((pick) => one.push(pick));
          expect(batch).toEqual(one);
        }),
      );
    });
  });
});
