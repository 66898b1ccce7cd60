import { z } from 'zod';
import { Uuid } from '../common/common.schema';
import { storedText, text } from '../common/text.schema';

export const METERED = ['tokens', 'gpuSeconds', 'storageBytes'] as const;
export const MeteredResource = z.enum(METERED);
export type MeteredResource = z.infer<typeof MeteredResource>;

/** One usage report. `messageId` is the sender's idempotency key: it is counted once. */
export const UsageRecorded = z
  .object({
    messageId: text({ min: 1, max: 200 }),
    tenantId: Uuid,
    resource: MeteredResource,
    // storage is a running total, so it may shrink; the monthly counters only grow
    amount: z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
    occurredAt: z.iso.datetime(),
    source: text({ min: 1, max: 100 }),
  })
  .strict()
  .refine((u) => u.resource === 'storageBytes' || u.amount >= 0, {
    message: 'only storage may be reported as a negative amount',
    path: ['amount'],
  });
export type UsageRecorded = z.infer<typeof UsageRecorded>;

export const QuotaCheckRequest = z
  .object({
    tenantId: Uuid,
    resource: MeteredResource,
    amount: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  })
  .strict();

export const QuotaCheckReply = z.object({
  allowed: z.boolean(),
  resource: MeteredResource,
  used: z.number().int(),
  limit: z.number().int(),
  remaining: z.number().int(),
  period: storedText(),
});
export type QuotaCheckReply = z.infer<typeof QuotaCheckReply>;

export const UsageRequest = z.object({ tenantId: Uuid }).strict();
export const UsageReply = z.object({
  tenantId: Uuid,
  period: storedText(),
  usage: z.array(QuotaCheckReply.omit({ allowed: true })),
});
export type UsageReply = z.infer<typeof UsageReply>;
