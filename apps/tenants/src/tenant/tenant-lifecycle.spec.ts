import { DomainError, ErrorCode } from '@lattice/contracts';
import { nextStatus } from './tenant-lifecycle';

describe('tenant lifecycle', () => {
  it.each([
    ['active', 'suspend', 'suspended'],
    ['suspended', 'reactivate', 'active'],
    ['active', 'delete', 'deleted'],
    ['suspended', 'delete', 'deleted'],
    ['deleted', 'reactivate', 'active'],
  ] as const)('moves a %s tenant on %s to %s', (from, action, to) => {
    expect(nextStatus(from, action)).toBe(to);
  });

  it.each([
    ['suspended', 'suspend'],
    ['active', 'reactivate'],
    ['deleted', 'delete'],
    ['active', 'update'],
  ] as const)('treats %s + %s as a no-op so a retry is safe', (from, action) => {
    expect(nextStatus(from, action)).toBeNull();
  });

  it.each([['update'], ['suspend']] as const)('refuses to %s a deleted tenant', (action) => {
    expect(() => nextStatus('deleted', action)).toThrow(DomainError);
    try {
      nextStatus('deleted', action);
    } catch (error) {
      expect((error as DomainError).code).toBe(ErrorCode.InvalidState);
    }
  });
});
