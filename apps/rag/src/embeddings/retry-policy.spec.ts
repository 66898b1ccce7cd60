import { parseRetryAfter, retryDelayMs } from './retry-policy';

describe('retry policy', () => {
  const policy = { maxRetries: 5, baseDelayMs: 500, maxDelayMs: 30_000 };

  it('waits a random share of a doubling ceiling, capped', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, policy, undefined, () => 0.999))).toEqual([
      499, 999, 1998, 3996,
    ]);
    expect(retryDelayMs(20, policy, undefined, () => 0.5)).toBe(15_000);
    expect(retryDelayMs(3, policy, undefined, () => 0)).toBe(0);
  });

  it('waits what the server asked for, within the cap', () => {
    expect(retryDelayMs(1, policy, 2_000, () => 0)).toBe(2_000);
    expect(retryDelayMs(1, policy, 3_600_000, () => 0)).toBe(30_000);
  });

  it('reads Retry-After in seconds or as a date, and retry-after-ms', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const headers = (h: Record<string, string>) => new Headers(h);
    expect(parseRetryAfter(headers({ 'retry-after': '3' }), now)).toBe(3_000);
    expect(parseRetryAfter(headers({ 'retry-after': '0.5' }), now)).toBe(500);
    expect(parseRetryAfter(headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:10 GMT' }), now)).toBe(
      10_000,
    );
    expect(parseRetryAfter(headers({ 'retry-after': 'Wed, 31 Dec 2025 00:00:00 GMT' }), now)).toBe(
      0,
    );
    expect(parseRetryAfter(headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now)).toBe(
      250,
    );
    expect(parseRetryAfter(headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(parseRetryAfter(headers({}), now)).toBeUndefined();
  });
});
