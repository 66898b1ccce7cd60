import type { Plan, QuotaOverrides, Quotas } from '@lattice/contracts';

const GiB = 1024 ** 3;

const ENTERPRISE: Quotas = {
  requestsPerMinute: 6_000,
  tokensPerMonth: 1_000_000_000,
  storageBytes: 2_048 * GiB,
  gpuSecondsPerMonth: 3_600_000,
  users: 1_000,
  concurrentJobs: 100,
  fairShareWeight: 50,
  auditRetentionDays: 365,
};

/**
 * What each plan allows. `custom` starts from enterprise and takes per-tenant overrides.
 * `fairShareWeight` is the tier's weight in the scheduler's fair share: with one busy tenant per
 * tier, a saturated queue runs enterprise 50 %, professional 30 %, starter 15 %, free 5 %.
 */
export const PLAN_QUOTAS: Readonly<Record<Plan, Quotas>> = Object.freeze({
  free: {
    requestsPerMinute: 20,
    tokensPerMonth: 100_000,
    storageBytes: 1 * GiB,
    gpuSecondsPerMonth: 600,
    users: 2,
    concurrentJobs: 1,
    fairShareWeight: 5,
    auditRetentionDays: 7,
  },
  starter: {
    requestsPerMinute: 60,
    tokensPerMonth: 1_000_000,
    storageBytes: 5 * GiB,
    gpuSecondsPerMonth: 3_600,
    users: 5,
    concurrentJobs: 2,
    fairShareWeight: 15,
    auditRetentionDays: 30,
  },
  professional: {
    requestsPerMinute: 600,
    tokensPerMonth: 50_000_000,
    storageBytes: 100 * GiB,
    gpuSecondsPerMonth: 360_000,
    users: 50,
    concurrentJobs: 10,
    fairShareWeight: 30,
    auditRetentionDays: 90,
  },
  enterprise: ENTERPRISE,
  custom: ENTERPRISE,
});

/** The quotas a tenant actually has: its plan's, with overrides only where the plan is custom. */
export function effectiveQuotas(plan: Plan, overrides: QuotaOverrides | null | undefined): Quotas {
  const base = PLAN_QUOTAS[plan];
  if (plan !== 'custom' || !overrides) return { ...base };
  const merged: Quotas = { ...base };
  for (const key of Object.keys(overrides) as (keyof Quotas)[]) {
    const value = overrides[key];
    if (value !== undefined) merged[key] = value;
  }
  return merged;
}
