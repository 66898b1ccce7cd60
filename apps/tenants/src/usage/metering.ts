import type { MeteredResource, Quotas } from '@lattice/contracts';

/** Monthly counters reset each calendar month (UTC); storage is one running total. */
export function meterPeriod(resource: MeteredResource, at: Date): string {
  if (resource === 'storageBytes') return 'total';
  return `${at.getUTCFullYear()}-${String(at.getUTCMonth() + 1).padStart(2, '0')}`;
}

export function quotaLimit(resource: MeteredResource, quotas: Quotas): number {
  switch (resource) {
    case 'tokens':
      return quotas.tokensPerMonth;
    case 'gpuSeconds':
      return quotas.gpuSecondsPerMonth;
    case 'storageBytes':
      return quotas.storageBytes;
  }
}

export interface QuotaDecision {
  allowed: boolean;
  used: number;
  limit: number;
  remaining: number;
}

/** Whether `amount` more fits. A tenant that is not active is within no quota at all. */
export function decideQuota(
  used: number,
  limit: number,
  amount: number,
  active: boolean,
): QuotaDecision {
  const remaining = Math.max(0, limit - used);
  return { allowed: active && used + amount <= limit, used, limit, remaining };
}
