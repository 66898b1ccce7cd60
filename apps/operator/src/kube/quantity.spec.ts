import { cpuMilli, durationMs } from './quantity';

describe('quantities', () => {
  it.each([
    ['250m', 250],
    ['1', 1000],
    ['0.5', 500],
    ['123456789n', 123.456789],
    ['1500u', 1.5],
  ])('reads CPU %s as %d millicores', (q, milli) => expect(cpuMilli(q)).toBeCloseTo(milli, 6));

  it.each([
    ['30s', 30_000],
    ['1m0s', 60_000],
    ['1.5s', 1_500],
    ['1h2m3s', 3_723_000],
  ])('reads duration %s', (d, ms) => expect(durationMs(d)).toBe(ms));

  it('refuses what it cannot read', () => {
    expect(() => cpuMilli('lots')).toThrow('unreadable CPU quantity');
    expect(() => durationMs('soon')).toThrow('unreadable duration');
  });
});
