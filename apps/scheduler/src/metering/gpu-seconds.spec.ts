import { gpuQuotaExhausted, gpuSecondsOf } from './gpu-seconds';

describe(gpuSecondsOf.name, () => {
  const start = new Date('2026-03-01T12:00:00Z');
  const after = (ms: number) => new Date(start.getTime() + ms);

  it('counts every started second, times the GPUs a job holds', () => {
    expect(gpuSecondsOf(start, after(10_000), 1)).toBe(10);
    expect(gpuSecondsOf(start, after(10_001), 1)).toBe(11);
    expect(gpuSecondsOf(start, after(2_500), 4)).toBe(12);
  });

  it('counts a run shorter than a second as one', () => {
    expect(gpuSecondsOf(start, after(3), 2)).toBe(2);
    expect(gpuSecondsOf(start, start, 1)).toBe(1);
  });

  it('counts nothing on a queue without GPUs, or for a run that never started', () => {
    expect(gpuSecondsOf(start, after(60_000), 0)).toBe(0);
    expect(gpuSecondsOf(null, after(60_000), 8)).toBe(0);
  });
});

describe(gpuQuotaExhausted.name, () => {
  it('stops a tenant once its use reaches its limit', () => {
    expect(gpuQuotaExhausted(599, 600)).toBe(false);
    expect(gpuQuotaExhausted(600, 600)).toBe(true);
    expect(gpuQuotaExhausted(900, 600)).toBe(true);
    expect(gpuQuotaExhausted(0, 0)).toBe(true);
  });
});
