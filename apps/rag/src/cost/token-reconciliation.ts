/**
 * Token cost of an answer: estimated before the call with the service's tokenizer (for the
 * tenant's quota check), counted by the provider after (the `usage` of its reply), both kept,
 * and reconciled.
 *
 * Variance, precisely: for an estimate E and the provider's count A of the same tokens,
 *   variance = |A − E| / A            (A > 0)
 *   variance = 0 when A = E = 0, and +∞ when A = 0 < E.
 * It is relative to the provider's count because that is what is billed. A variance is flagged
 * when it is strictly above the threshold (10 %): the comparison is done in integers,
 * 100·|A − E| > 10·A, so exactly 10 % is not flagged and no rounding moves the boundary.
 */

export interface ModelPricing {
  /** Price of one million prompt tokens, in the currency's main unit. */
  promptPerMillionTokens: number;
  completionPerMillionTokens: number;
}

export interface TokenCount {
  promptTokens: number;
  completionTokens: number;
}

export interface CostEstimate extends TokenCount {
  totalTokens: number;
  cost: number;
}

export interface ReconcileInput {
  estimatedPromptTokens: number;
  estimatedCompletionTokens: number;
  providerPromptTokens: number;
  providerCompletionTokens: number;
}

export interface Reconciliation {
  estimatedTokens: number;
  actualTokens: number;
  promptVariance: number;
  completionVariance: number;
  /** Of the totals: what the report and the flag use. */
  variance: number;
  flagged: boolean;
}

export interface UsageRecord {
  tenantId: string;
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  /** Tokens estimated before the call (prompt + completion). */
  estimated: number;
  /** Tokens the provider counted (prompt + completion). */
  actual: number;
}

export interface ReconciliationRow {
  tenantId: string;
  day: string;
  requests: number;
  estimated: number;
  actual: number;
  variance: number;
  flagged: boolean;
}

/** The threshold: a variance above 10 % is flagged. */
export const VARIANCE_FLAG_PERCENT = 10;

function assertTokens(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, not ${value}`);
  }
}

export function estimateCost(tokens: TokenCount, pricing: ModelPricing): CostEstimate {
  assertTokens(tokens.promptTokens, 'promptTokens');
  assertTokens(tokens.completionTokens, 'completionTokens');
  for (const [name, price] of Object.entries(pricing)) {
    if (!Number.isFinite(price) || price < 0)
      throw new RangeError(`${name} must be a non-negative number`);
  }
  const cost =
    (tokens.promptTokens * pricing.promptPerMillionTokens +
      tokens.completionTokens * pricing.completionPerMillionTokens) /
    1_000_000;
  return { ...tokens, totalTokens: tokens.promptTokens + tokens.completionTokens, cost };
}

/** |A − E| / A, with 0 for 0/0 and +∞ for an estimate of tokens the provider did not count. */
export function tokenVariance(estimated: number, actual: number): number {
  if (actual === 0) return estimated === 0 ? 0 : Number.POSITIVE_INFINITY;
  return Math.abs(actual - estimated) / actual;
}

/** Whether |A − E| / A > percent / 100, decided in integers. */
export function varianceFlagged(
  estimated: number,
  actual: number,
  percent = VARIANCE_FLAG_PERCENT,
): boolean {
  return 100 * Math.abs(actual - estimated) > percent * actual;
}

export function reconcile(input: ReconcileInput): Reconciliation {
  for (const [name, value] of Object.entries(input)) assertTokens(value, name);
  const estimatedTokens = input.estimatedPromptTokens + input.estimatedCompletionTokens;
  const actualTokens = input.providerPromptTokens + input.providerCompletionTokens;
  return {
    estimatedTokens,
    actualTokens,
    promptVariance: tokenVariance(input.estimatedPromptTokens, input.providerPromptTokens),
    completionVariance: tokenVariance(
      input.estimatedCompletionTokens,
      input.providerCompletionTokens,
    ),
    variance: tokenVariance(estimatedTokens, actualTokens),
    flagged: varianceFlagged(estimatedTokens, actualTokens),
  };
}

/** The UTC day of an instant, as the report groups it. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

function assertDay(day: string, index: number): void {
  const m = DAY.exec(day);
  if (
    !m ||
    utcDay(new Date(`${day}T00:00:00Z`)) !== day ||
    Number.isNaN(Date.parse(`${day}T00:00:00Z`))
  ) {
    throw new RangeError(
      `record ${index}: day must be a calendar date YYYY-MM-DD, not ${JSON.stringify(day)}`,
    );
  }
}

/**
 * One row per tenant and UTC day: the sums of estimated and provider-counted tokens, their
 * variance and whether it is flagged. Rows are ordered by day, then tenant.
 */
export function buildReconciliationReport(
  records: readonly UsageRecord[],
  options: { flagAbovePercent?: number } = {},
): ReconciliationRow[] {
  const percent = options.flagAbovePercent ?? VARIANCE_FLAG_PERCENT;
  if (!Number.isInteger(percent) || percent < 0)
    throw new RangeError('flagAbovePercent must be a non-negative integer');
  const rows = new Map<string, ReconciliationRow>();
  records.forEach((r, i) => {
    if (typeof r.tenantId !== 'string' || r.tenantId === '')
      throw new RangeError(`record ${i}: tenantId is empty`);
    assertDay(r.day, i);
    assertTokens(r.estimated, `record ${i}: estimated`);
    assertTokens(r.actual, `record ${i}: actual`);
    const key = `${r.day}\u0000${r.tenantId}`;
    const row = rows.get(key) ?? {
      tenantId: r.tenantId,
      day: r.day,
      requests: 0,
      estimated: 0,
      actual: 0,
      variance: 0,
      flagged: false,
    };
    row.requests += 1;
    row.estimated += r.estimated;
    row.actual += r.actual;
    rows.set(key, row);
  });
  return [...rows.values()]
    .map((row) => ({
      ...row,
      variance: tokenVariance(row.estimated, row.actual),
      flagged: varianceFlagged(row.estimated, row.actual, percent),
    }))
    .sort((a, b) =>
      a.day < b.day
        ? -1
        : a.day > b.day
          ? 1
          : a.tenantId < b.tenantId
            ? -1
            : a.tenantId > b.tenantId
              ? 1
              : 0,
    );
}
