import type { UsageRecorded } from '@lattice/contracts';

/**
 * GPU-seconds a lease used: the time it was held, weighted by its share of the card's memory.
 * A lease of a whole 32 GB card for an hour is 3,600; one of 4 GB on it for an hour is 450.
 * Rounded up, so no lease that held memory is free.
 */
export function gpuSecondsOf(
  lease: { chargedMiB: number; gpuTotalMiB: number; createdAt: Date },
  endedAt: Date,
): number {
  const seconds = Math.max(0, (endedAt.getTime() - lease.createdAt.getTime()) / 1000);
  const share = lease.gpuTotalMiB > 0 ? Math.min(1, lease.chargedMiB / lease.gpuTotalMiB) : 1;
  return Math.ceil(seconds * share);
}

/**
 * The USAGE report of an ended lease. Its message id is the lease's, so a lease is counted once
 * whatever happens between its end and the report's delivery.
 */
export function leaseUsageReport(
  lease: { id: string; tenantId: string; chargedMiB: number; gpuTotalMiB: number; createdAt: Date },
  endedAt: Date,
): UsageRecorded {
  return {
    messageId: `gpu-lease:${lease.id}`,
    tenantId: lease.tenantId,
    resource: 'gpuSeconds',
    amount: gpuSecondsOf(lease, endedAt),
    occurredAt: endedAt.toISOString(),
    source: 'gpu-nodes',
  };
}
