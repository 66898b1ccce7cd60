import { DomainError, ErrorCode, type TenantStatus } from '@lattice/contracts';

export type LifecycleAction = 'update' | 'suspend' | 'reactivate' | 'delete';

/**
 * The status a tenant moves to, or null when it is already there (the call is then a no-op,
 * so retries are safe). A deleted tenant can only be reactivated, until it is purged.
 */
export function nextStatus(current: TenantStatus, action: LifecycleAction): TenantStatus | null {
  switch (action) {
    case 'update':
      if (current === 'deleted') throw invalid(current, action);
      return null;
    case 'suspend':
      if (current === 'deleted') throw invalid(current, action);
      return current === 'suspended' ? null : 'suspended';
    case 'reactivate':
      return current === 'active' ? null : 'active';
    case 'delete':
      return current === 'deleted' ? null : 'deleted';
  }
}

function invalid(current: TenantStatus, action: LifecycleAction): DomainError {
  return new DomainError(
    ErrorCode.InvalidState,
    `a ${current} tenant cannot be ${action === 'update' ? 'updated' : action + 'ed'}`,
    {
      currentStatus: current,
    },
  );
}
