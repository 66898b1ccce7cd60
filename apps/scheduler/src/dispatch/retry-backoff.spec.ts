import { retryDelayMs } from './retry-backoff';

const policy = { baseMs: 1_000, maxMs: 30_000 };

describe(retryDelayMs.name, () => {
  it('doubles the ceiling with each attempt, half of it fixed and half jitter', () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, policy, () => 0))).toEqual([
      500, 1_000, 2_000, 4_000,
    ]);
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, policy, () => 0.999_999))).toEqual([
      1_000, 2_000, 4_000, 8_000,
    ]);
  });

  it('never waits longer than the maximum, however many attempts', () => {
    for (const attempt of [5, 6, 20, 100, 10_000]) {
      expect(retryDelayMs(attempt, policy, () => 0.999_999)).toBeLessThanOrEqual(30_000);
      expect(retryDelayMs(attempt, policy, () => 0)).toBeGreaterThanOrEqual(
        retryDelayMs(attempt - 1, policy, () => 0),
      );
    }
  });

  it('spreads the retries of jobs that failed together', () => {
    const delays = new Set([0.1, 0.3, 0.5, 0.7, 0.9].map((r) => retryDelayMs(3, policy, () => r)));
    expect(delays.size).toBe(5);
  });

  it('refuses an attempt number below one', () => {
    expect(() => retryDelayMs(0, policy, () => 0)).toThrow(RangeError);
  });
});
