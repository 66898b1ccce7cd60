import { PLANS, Quotas } from '@lattice/contracts';
import { PLAN_QUOTAS, effectiveQuotas } from './plan-catalog';

describe('plan catalog', () => {
  it('gives every plan a complete, valid set of quotas', () => {
    for (const plan of PLANS) expect(Quotas.safeParse(PLAN_QUOTAS[plan]).success).toBe(true);
  });

  it('ranks the fixed plans so that a bigger plan never allows less', () => {
    const ladder = ['starter', 'professional', 'enterprise'] as const;
    for (let i = 1; i < ladder.length; i++) {
      const lower = PLAN_QUOTAS[ladder[i - 1]];
      const higher = PLAN_QUOTAS[ladder[i]];
      for (const key of Object.keys(lower) as (keyof Quotas)[]) {
        expect(higher[key]).toBeGreaterThan(lower[key]);
      }
    }
  });

  it('puts the free plan below starter in every quota', () => {
    for (const key of Object.keys(PLAN_QUOTAS.free) as (keyof Quotas)[]) {
      expect(PLAN_QUOTAS.free[key]).toBeLessThan(PLAN_QUOTAS.starter[key]);
    }
  });

  it('weighs the tiers so that one busy tenant each shares a queue 50/30/15/5', () => {
    const tiers = ['enterprise', 'professional', 'starter', 'free'] as const;
    const weights = tiers.map((plan) => PLAN_QUOTAS[plan].fairShareWeight);
    const total = weights.reduce((a, b) => a + b, 0);
    expect(weights.map((w) => (100 * w) / total)).toEqual([50, 30, 15, 5]);
    expect(PLAN_QUOTAS.custom.fairShareWeight).toBe(PLAN_QUOTAS.enterprise.fairShareWeight);
  });

  it('applies overrides on the custom plan, key by key', () => {
    const quotas = effectiveQuotas('custom', { tokensPerMonth: 42, users: 3 });
    expect(quotas.tokensPerMonth).toBe(42);
    expect(quotas.users).toBe(3);
    expect(quotas.concurrentJobs).toBe(PLAN_QUOTAS.custom.concurrentJobs);
  });

  it('ignores overrides on a fixed plan', () => {
    expect(effectiveQuotas('starter', { tokensPerMonth: 42 })).toEqual(PLAN_QUOTAS.starter);
  });

  it('never hands out the catalogue itself for callers to change', () => {
    const quotas = effectiveQuotas('starter', null);
    quotas.users = 999;
    expect(PLAN_QUOTAS.starter.users).toBe(5);
  });
});
