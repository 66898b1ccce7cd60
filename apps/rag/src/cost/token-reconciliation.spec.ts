import fc from 'fast-check';
import {
  buildReconciliationReport,
  estimateCost,
  reconcile,
  tokenVariance,
  utcDay,
  varianceFlagged,
} from './token-reconciliation';

describe('estimateCost', () => {
  it('prices prompt and completion tokens per million', () => {
    expect(
      estimateCost(
        { promptTokens: 3000, completionTokens: 500 },
        { promptPerMillionTokens: 2, completionPerMillionTokens: 8 },
      ),
    ).toEqual({ promptTokens: 3000, completionTokens: 500, totalTokens: 3500, cost: 0.01 });
  });

  it('refuses negative or fractional token counts and negative prices', () => {
    const price = { promptPerMillionTokens: 1, completionPerMillionTokens: 1 };
    expect(() => estimateCost({ promptTokens: -1, completionTokens: 0 }, price)).toThrow(
      RangeError,
    );
    expect(() => estimateCost({ promptTokens: 1.5, completionTokens: 0 }, price)).toThrow(
      RangeError,
    );
    expect(() =>
      estimateCost(
        { promptTokens: 1, completionTokens: 0 },
        { ...price, promptPerMillionTokens: -1 },
      ),
    ).toThrow(RangeError);
  });
});

describe('reconcile', () => {
  it('keeps both counts and measures the variance against the provider count', () => {
    const r = reconcile({
      estimatedPromptTokens: 900,
      estimatedCompletionTokens: 100,
      providerPromptTokens: 1000,
      providerCompletionTokens: 125,
    });
    expect(r).toMatchObject({
      estimatedTokens: 1000,
      actualTokens: 1125,
      promptVariance: 0.1,
      completionVariance: 0.2,
    });
    expect(r.variance).toBeCloseTo(125 / 1125);
    expect(r.flagged).toBe(true);
  });

  it('does not flag a variance of exactly 10 %, and flags one token more', () => {
    const base = {
      estimatedCompletionTokens: 0,
      providerPromptTokens: 1000,
      providerCompletionTokens: 0,
    };
    expect(reconcile({ ...base, estimatedPromptTokens: 900 }).flagged).toBe(false);
    expect(reconcile({ ...base, estimatedPromptTokens: 1100 }).flagged).toBe(false);
    expect(reconcile({ ...base, estimatedPromptTokens: 899 }).flagged).toBe(true);
    expect(reconcile({ ...base, estimatedPromptTokens: 1101 }).flagged).toBe(true);
  });

  it('treats nothing counted: 0 against 0 is no variance, anything against 0 is flagged', () => {
    expect(tokenVariance(0, 0)).toBe(0);
    expect(tokenVariance(5, 0)).toBe(Number.POSITIVE_INFINITY);
    expect(varianceFlagged(0, 0)).toBe(false);
    expect(varianceFlagged(1, 0)).toBe(true);
  });

  it('flags exactly when the variance is above 10 %, for any counts', () => {
    fc.assert(
      fc.property(fc.nat(1_000_000), fc.integer({ min: 1, max: 1_000_000 }), (e, a) => {
        // exact rational comparison, independent of floating point
        const exact = BigInt(Math.abs(a - e)) * 10n > BigInt(a);
        expect(varianceFlagged(e, a)).toBe(exact);
      }),
    );
  });
});

describe('buildReconciliationReport', () => {
  it('sums per tenant and day, flags above 10 % and orders by day then tenant', () => {
    const rows = buildReconciliationReport([
      { tenantId: 'b', day: '2026-12-06', estimated: 1000, actual: 1000 },
      { tenantId: 'a', day: '2026-12-06', estimated: 450, actual: 500 },
      { tenantId: 'a', day: '2026-12-06', estimated: 450, actual: 500 },
      { tenantId: 'a', day: '2026-12-05', estimated: 890, actual: 1000 },
      { tenantId: 'b', day: '2026-12-06', estimated: 0, actual: 0 },
    ]);
    expect(rows).toEqual([
      {
        tenantId: 'a',
        day: '2026-12-05',
        requests: 1,
        estimated: 890,
        actual: 1000,
        variance: 0.11,
        flagged: true,
      },
      {
        tenantId: 'a',
        day: '2026-12-06',
        requests: 2,
        estimated: 900,
        actual: 1000,
        variance: 0.1,
        flagged: false,
      },
      {
        tenantId: 'b',
        day: '2026-12-06',
        requests: 2,
        estimated: 1000,
        actual: 1000,
        variance: 0,
        flagged: false,
      },
    ]);
  });

  it('refuses records it cannot account for', () => {
    const ok = { tenantId: 't', day: '2026-12-06', estimated: 1, actual: 1 };
    expect(() => buildReconciliationReport([{ ...ok, day: '2026-02-30' }])).toThrow(
      /record 0: day/,
    );
    expect(() => buildReconciliationReport([{ ...ok, day: '6.12.2026' }])).toThrow(RangeError);
    expect(() => buildReconciliationReport([ok, { ...ok, actual: -3 }])).toThrow(
      /record 1: actual/,
    );
    expect(() => buildReconciliationReport([{ ...ok, tenantId: '' }])).toThrow(/tenantId/);
  });

  it('groups by the UTC day of an instant', () => {
    expect(utcDay(new Date('2026-12-06T23:59:59.999-01:00'))).toBe('2026-12-07');
  });
});
