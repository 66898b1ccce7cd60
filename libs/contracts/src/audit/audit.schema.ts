import { z } from 'zod';
import { HealthReply, PageQuery, Uuid, page } from '../common/common.schema';
import { storableJson, storedText, text } from '../common/text.schema';
import { AuditActor, AuditOutcome } from './audit-event.schema';

const Instant = z.iso.datetime({ offset: true });

/** Names the tenant whose trail is read; only platform administrators may name another. */
const TenantChoice = { tenantId: Uuid.optional() };

const FilterFields = z.object({
  ...TenantChoice,
  from: Instant.optional(),
  to: Instant.optional(),
  actorType: AuditActor.shape.type.optional(),
  actorId: text({ min: 1, max: 200 }).optional(),
  /** An exact action, or a prefix ending in `.*` (`tenants.*`). */
  action: z
    .string()
    .max(100)
    .regex(/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*(\.\*)?$/, 'an action, or a prefix ending in ".*"')
    .optional(),
  resourceType: text({ min: 1, max: 64 }).optional(),
  resourceId: text({ min: 1, max: 200 }).optional(),
  outcome: AuditOutcome.optional(),
});

const fromNotAfterTo: [
  (f: { from?: string; to?: string }) => boolean,
  { message: string; path: string[] },
] = [
  (f) => !f.from || !f.to || Date.parse(f.from) <= Date.parse(f.to),
  { message: '"from" must not be after "to"', path: ['from'] },
];

export const ListAuditEventsQuery = PageQuery.extend(FilterFields.shape)
  .strict()
  .refine(...fromNotAfterTo);
export type ListAuditEventsQuery = z.infer<typeof ListAuditEventsQuery>;
export type AuditEventFilters = Omit<ListAuditEventsQuery, 'limit' | 'cursor' | 'tenantId'>;

/** One page of an export, oldest first; the gateway streams the pages one after another. */
export const ExportAuditEventsPage = z
  .object({
    ...TenantChoice,
    from: Instant,
    to: Instant,
    limit: z.number().int().min(1).max(1_000).default(500),
    cursor: text({ max: 512 }).optional(),
  })
  .strict()
  .refine(...fromNotAfterTo);

/**
 * An event as the trail returns it. Personal fields whose subject was erased read as null
 * and `erased` lists them; everything else, and the chain, is as it was written.
 */
export const AuditEventView = z.object({
  id: Uuid,
  tenantId: Uuid,
  seq: z.number().int().min(1),
  occurredAt: z.iso.datetime(),
  recordedAt: z.iso.datetime(),
  actor: z.object({
    type: AuditActor.shape.type,
    id: storedText().nullable(),
    roles: z.array(storedText()),
  }),
  action: storedText(),
  resource: z.object({ type: storedText(), id: storedText().optional() }),
  outcome: AuditOutcome,
  sourceIp: storedText().nullable(),
  userAgent: storedText().nullable(),
  requestId: storedText().nullable(),
  traceId: storedText().nullable(),
  metadata: storableJson(z.record(storedText(), z.unknown())),
  erased: z.array(storedText()),
  hash: storedText(),
});
export type AuditEventView = z.infer<typeof AuditEventView>;

export const AuditEventPage = page(AuditEventView);
export type AuditEventPage = z.infer<typeof AuditEventPage>;

export const VerifyChainRequest = z.object(TenantChoice).strict();

export const CHAIN_BREAKS = [
  'hash-mismatch',
  'link-mismatch',
  'missing-event',
  'checkpoint-mismatch',
  'checkpoint-signature',
  'head-mismatch',
] as const;

export const ChainBreak = z.object({
  seq: z.number().int(),
  eventId: Uuid.nullable(),
  reason: z.enum(CHAIN_BREAKS),
  detail: storedText(),
});
export type ChainBreak = z.infer<typeof ChainBreak>;

/** What a walk of one tenant's chain found: intact, or where it first breaks. */
export const ChainReport = z.object({
  tenantId: Uuid,
  valid: z.boolean(),
  /** The signed checkpoint the walk started from, where retention removed what came before. */
  anchorSeq: z.number().int().min(0),
  headSeq: z.number().int().min(0),
  eventsChecked: z.number().int().min(0),
  checkpointsChecked: z.number().int().min(0),
  firstBreak: ChainBreak.nullable(),
  /** The Ed25519 key the checkpoints are signed with (SPKI PEM), for checking them elsewhere. */
  publicKey: storedText(),
});
export type ChainReport = z.infer<typeof ChainReport>;

export const AuditHealth = HealthReply;

/** A user's recorded agreement (or its withdrawal) to one purpose, at one policy version. */
export const RecordConsentRequest = z
  .object({
    ...TenantChoice,
    subjectId: text({ min: 1, max: 200 }),
    purpose: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$/, 'lowercase words joined by "-" or "."'),
    policyVersion: text({ min: 1, max: 50 }),
    granted: z.boolean(),
  })
  .strict();
export type RecordConsentRequest = z.infer<typeof RecordConsentRequest>;

export const ConsentView = z.object({
  id: Uuid,
  tenantId: Uuid,
  /** Null once the subject has been erased. */
  subjectId: storedText().nullable(),
  purpose: storedText(),
  policyVersion: storedText(),
  granted: z.boolean(),
  recordedAt: z.iso.datetime(),
  recordedBy: z.object({ type: AuditActor.shape.type, id: storedText().nullable() }),
});
export type ConsentView = z.infer<typeof ConsentView>;

export const ListConsentsQuery = PageQuery.extend({
  ...TenantChoice,
  subjectId: text({ min: 1, max: 200 }),
}).strict();
export type ListConsentsQuery = z.infer<typeof ListConsentsQuery>;

export const ConsentPage = page(ConsentView);
export type ConsentPage = z.infer<typeof ConsentPage>;

export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;

/** An export over HTTP: a time range, streamed in one of the formats. */
export const ExportAuditEventsQuery = z
  .object({
    ...TenantChoice,
    format: z.enum(EXPORT_FORMATS).default('ndjson'),
    from: Instant,
    to: Instant,
  })
  .strict()
  .refine(...fromNotAfterTo);
export type ExportAuditEventsQuery = z.infer<typeof ExportAuditEventsQuery>;
