import { z } from 'zod';
import { Uuid } from '../common/common.schema';
import { storableJson, storedText, text } from '../common/text.schema';

/** A data subject (a user), within the tenant that holds their data. */
export const GdprSubjectRequest = z
  .object({
    /** Only platform administrators may name a tenant other than their own. */
    tenantId: Uuid.optional(),
    subjectId: text({ min: 1, max: 200 }),
  })
  .strict();
export type GdprSubjectRequest = z.infer<typeof GdprSubjectRequest>;

/** What every service that holds personal data is asked, with the tenant settled. */
export const GdprServiceRequest = z
  .object({ tenantId: Uuid, subjectId: text({ min: 1, max: 200 }) })
  .strict();
export type GdprServiceRequest = z.infer<typeof GdprServiceRequest>;

export const ServiceName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9-]*$/);

/** One service's answer to a subject access request: everything it holds about the subject. */
export const GdprServiceData = z.object({ service: ServiceName, data: storableJson(z.unknown()) });
export type GdprServiceData = z.infer<typeof GdprServiceData>;

/** One service's answer to an erasure request: how many of its records it erased. */
export const GdprServiceErasure = z.object({
  service: ServiceName,
  erased: z.number().int().min(0),
});
export type GdprServiceErasure = z.infer<typeof GdprServiceErasure>;

/** Article 15/20: everything Lattice holds about one subject, in one JSON document. */
export const GdprAccessDocument = z.object({
  tenantId: Uuid,
  subjectId: storedText(),
  generatedAt: z.iso.datetime(),
  services: storableJson(z.record(ServiceName, z.unknown())),
});
export type GdprAccessDocument = z.infer<typeof GdprAccessDocument>;

/** Article 17: which services erased what. */
export const GdprErasureReport = z.object({
  tenantId: Uuid,
  subjectId: storedText(),
  erasedAt: z.iso.datetime(),
  services: z.array(GdprServiceErasure),
});
export type GdprErasureReport = z.infer<typeof GdprErasureReport>;
