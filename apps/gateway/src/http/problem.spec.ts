import { ErrorCode } from '@lattice/contracts';
import { problem, problemType, statusOf } from './problem';

describe('problem details', () => {
  it('maps every error code to a 4xx or 5xx status', () => {
    for (const code of Object.values(ErrorCode)) {
      expect(statusOf(code)).toBeGreaterThanOrEqual(400);
      expect(statusOf(code)).toBeLessThan(600);
    }
  });

  it('gives each code its own stable type URI', () => {
    const types = Object.values(ErrorCode).map(problemType);
    expect(new Set(types).size).toBe(types.length);
    expect(problemType(ErrorCode.NotFound)).toBe('https://lattice.dev/problems/not-found');
  });

  it('turns validation issues into an errors list', () => {
    const body = problem(ErrorCode.ValidationFailed, 'bad', {
      details: { issues: [{ path: 'slug', message: 'too short' }] },
    });
    expect(body).toMatchObject({ status: 400, errors: [{ path: 'slug', message: 'too short' }] });
    expect(body).not.toHaveProperty('issues');
  });

  it('never lets a detail overwrite a standard member', () => {
    const body = problem(ErrorCode.InvalidState, 'a deleted tenant cannot be updated', {
      details: { status: 'deleted', type: 'x', currentStatus: 'deleted' },
    });
    expect(body.status).toBe(409);
    expect(body.type).toBe('https://lattice.dev/problems/invalid-state');
    expect(body.currentStatus).toBe('deleted');
  });
});
