import { z } from 'zod';
import { Uuid } from '../common/common.schema';
import { storableJson, text } from '../common/text.schema';
import { stream, streamSubject } from '../subject';

/** The tenant that platform operators belong to; platform-level events are recorded under it. */
export const PLATFORM_TENANT_ID = '00000000-0000-0000-0000-000000000000';

/** The most a single event's metadata may weigh, serialised as JSON. */
export const AUDIT_METADATA_MAX_BYTES = 8 * 1024;

export const AUDIT_OUTCOMES = ['success', 'denied', 'error'] as const;
export const AuditOutcome = z.enum(AUDIT_OUTCOMES);
export type AuditOutcome = z.infer<typeof AuditOutcome>;

export const AuditActor = z
  .object({
    type: z.enum(['user', 'api-key', 'service', 'bootstrap', 'anonymous']),
    id: text({ min: 1, max: 200 }),
    /** For an API key: the user or service account it speaks for, whose personal data its calls carry. */
    ownerId: text({ min: 1, max: 200 }).optional(),
    /** The roles a user or key acted with, as they were at the time. */
    roles: z
      .array(text({ max: 100 }))
      .max(50)
      .default([]),
  })
  .strict();
export type AuditActor = z.infer<typeof AuditActor>;

export const AuditResource = z
  .object({
    type: text({ min: 1, max: 64 }),
    id: text({ min: 1, max: 200 }).optional(),
  })
  .strict();

const MetadataKey = text({ min: 1, max: 100 });

const AuditMetadata = z
  .record(MetadataKey, storableJson(z.unknown()))
  .refine((m) => Buffer.byteLength(JSON.stringify(m), 'utf8') <= AUDIT_METADATA_MAX_BYTES, {
    message: `metadata must serialise to at most ${AUDIT_METADATA_MAX_BYTES} bytes`,
  });

/** One thing somebody did, or tried to do, as the audit trail keeps it. */
export const AuditEvent = z
  .object({
    id: Uuid,
    tenantId: Uuid,
    occurredAt: z.iso.datetime({ offset: true }),
    actor: AuditActor,
    /** `<area>.<verb>` in lower case, for example `auth.login` or `tenant.update`. */
    action: z
      .string()
      .max(100)
      .regex(/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/, 'action must look like "area.verb"'),
    resource: AuditResource,
    outcome: AuditOutcome,
    sourceIp: z.union([z.ipv4(), z.ipv6()]).optional(),
    userAgent: text({ max: 512 }).optional(),
    requestId: text({ max: 200 }).optional(),
    traceId: z
      .string()
      .regex(/^[0-9a-f]{32}$/)
      .optional(),
    metadata: AuditMetadata.default({}),
    /**
     * Whom the personal metadata fields are about, when that is not the acting user (an admin
     * creating a user, say). Their values are stored so that erasing this subject erases them.
     */
    subjectId: text({ min: 1, max: 200 }).optional(),
    /** The metadata keys whose values are personal data (an email, a name). */
    personal: z.array(MetadataKey).max(50).optional(),
  })
  .strict()
  // every string of an event is checked where it is declared: text, a strict format, or the
  // metadata's free-form JSON check; no second walk over the whole event is needed
  .refine((e) => (e.personal ?? []).every((key) => key in e.metadata), {
    message: 'every personal field must be a key of metadata',
    path: ['personal'],
  });
export type AuditEvent = z.infer<typeof AuditEvent>;
export type AuditEventInput = z.input<typeof AuditEvent>;

/** Every service's audit events; the audit service writes each exactly once. */
export const AuditStream = stream('AUDIT', ['audit.v1.events.>']);
export const AuditEvents = streamSubject(AuditStream, 'audit.v1.events', AuditEvent);
