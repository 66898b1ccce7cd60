import { PLAN_QUOTAS } from '../plans/plan-catalog';
import { decideQuota, meterPeriod, quotaLimit } from './metering';

describe('metering', () => {
  it('counts tokens and GPU-seconds per UTC calendar month', () => {
    expect(meterPeriod('tokens', new Date('2026-01-31T23:59:59Z'))).toBe('2026-01');
    expect(meterPeriod('gpuSeconds', new Date('2026-02-01T00:00:00Z'))).toBe('2026-02');
    // late in the day west of UTC is already the next month in UTC
    expect(meterPeriod('tokens', new Date('2026-03-31T22:00:00-05:00'))).toBe('2026-04');
  });

  it('keeps storage as one running total', () => {
    expect(meterPeriod('storageBytes', new Date('2026-01-01T00:00:00Z'))).toBe('total');
  });

  it('reads each resource against its own quota', () => {
    const q = PLAN_QUOTAS.starter;
    expect(quotaLimit('tokens', q)).toBe(q.tokensPerMonth);
    expect(quotaLimit('gpuSeconds', q)).toBe(q.gpuSecondsPerMonth);
    expect(quotaLimit('storageBytes', q)).toBe(q.storageBytes);
  });

  it('allows exactly up to the limit and not one past it', () => {
    expect(decideQuota(90, 100, 10, true)).toEqual({
      allowed: true,
      used: 90,
      limit: 100,
      remaining: 10,
    });
    expect(decideQuota(90, 100, 11, true).allowed).toBe(false);
  });

  it('reports no remaining quota, never a negative one, once over the limit', () => {
    expect(decideQuota(150, 100, 0, true)).toEqual({
      allowed: false,
      used: 150,
      limit: 100,
      remaining: 0,
    });
  });

  it('refuses everything to a tenant that is not active', () => {
    expect(decideQuota(0, 100, 1, false).allowed).toBe(false);
  });
});
