import { JOB_STATES } from '@lattice/contracts';
import { afterFailedAttempt, canMove, isHeld } from './job-lifecycle';

describe('job lifecycle', () => {
  it('never skips a state on the way to success', () => {
    expect(canMove('queued', 'running')).toBe(false);
    expect(canMove('queued', 'succeeded')).toBe(false);
    expect(canMove('leased', 'succeeded')).toBe(false);
    expect(canMove('queued', 'leased')).toBe(true);
    expect(canMove('leased', 'running')).toBe(true);
    expect(canMove('running', 'succeeded')).toBe(true);
  });

  it('leaves no final state, and a dead job only back to the queue', () => {
    for (const to of JOB_STATES) {
      expect(canMove('succeeded', to)).toBe(false);
      expect(canMove('failed', to)).toBe(false);
      expect(canMove('cancelled', to)).toBe(false);
      expect(canMove('dead', to)).toBe(to === 'queued');
    }
  });

  it('never moves a job to the state it is in', () => {
    for (const state of JOB_STATES) expect(canMove(state, state)).toBe(false);
  });

  it('counts leased and running jobs as held', () => {
    expect(JOB_STATES.filter(isHeld)).toEqual(['leased', 'running']);
  });

  it('retries a retryable failure until the last attempt, then kills the job', () => {
    expect(afterFailedAttempt(1, 3, true)).toBe('queued');
    expect(afterFailedAttempt(2, 3, true)).toBe('queued');
    expect(afterFailedAttempt(3, 3, true)).toBe('dead');
    expect(afterFailedAttempt(1, 3, false)).toBe('failed');
  });
});
