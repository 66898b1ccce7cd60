import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type {
  ConsentPage,
  ConsentView,
  ListConsentsQuery,
  RecordConsentRequest,
} from '@lattice/contracts';
import { CursorCodec, TenantScope } from '@lattice/database';
import type { RequestContext } from '@lattice/request-context';
import { Clock } from '@lattice/service-runtime';
import type { EntityManager } from 'typeorm';
import { subjectTenant } from '../audit-access';
import { SubjectCipher } from '../privacy/subject-cipher';
import { SubjectKeyRepository } from '../privacy/subject-keys.repository';

interface ConsentRow {
  tenant_id: string;
  id: string;
  subject_key: string;
  subject_id: string;
  purpose: string;
  policy_version: string;
  granted: boolean;
  recorded_at: Date;
  recorded_by_type: string;
  recorded_by_key: string | null;
  recorded_by_id: string;
}

/**
 * What each user agreed to, and when: an append-only record per grant or withdrawal. The
 * subject (and a recording user) are sealed under their keys, so erasure reaches here too.
 */
@Injectable()
export class ConsentService {
  constructor(
    private readonly scope: TenantScope,
    private readonly keys: SubjectKeyRepository,
    private readonly cipher: SubjectCipher,
    private readonly cursors: CursorCodec,
    private readonly clock: Clock,
  ) {}

  async record(ctx: RequestContext, request: RecordConsentRequest): Promise<ConsentView> {
    const tenantId = subjectTenant(ctx, request.tenantId, request.subjectId);
    const id = randomUUID();
    const recorder = ctx.actor.type === 'user' ? ctx.actor.id : null;
    return this.scope.run(tenantId, async (em) => {
      const keys = await this.keys.resolve(
        em,
        tenantId,
        [request.subjectId, recorder].filter((s): s is string => s !== null),
      );
      const subject = keys.get(request.subjectId)!;
      const by = recorder ? keys.get(recorder)! : null;
      const [row]: ConsentRow[] = await em.query(
        `INSERT INTO audit.consents (tenant_id, id, subject_key, subject_id, purpose, policy_version,
           granted, recorded_at, recorded_by_type, recorded_by_key, recorded_by_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
        [
          tenantId,
          id,
          subject.keyId,
          this.cipher.seal(subject.key!, request.subjectId, `consent:${id}:subject`),
          request.purpose,
          request.policyVersion,
          request.granted,
          this.clock.now(),
          ctx.actor.type,
          by?.keyId ?? null,
          by ? this.cipher.seal(by.key!, ctx.actor.id, `consent:${id}:by`) : ctx.actor.id,
        ],
      );
      return (await this.open(em, tenantId, [row!]))[0]!;
    });
  }

  async list(ctx: RequestContext, query: ListConsentsQuery): Promise<ConsentPage> {
    const tenantId = subjectTenant(ctx, query.tenantId, query.subjectId);
    const binding = { tenantId, subjectId: query.subjectId };
    const after = query.cursor ? this.cursors.decode(query.cursor, binding) : null;
    return this.scope.run(tenantId, async (em) => {
      const key = await this.keys.find(em, tenantId, query.subjectId);
      if (!key) return { items: [], nextCursor: null };
      const rows = await this.bySubjectKey(em, tenantId, key.keyId, after, query.limit + 1);
      const items = await this.open(em, tenantId, rows.slice(0, query.limit));
      const last = items[items.length - 1];
      return {
        items,
        nextCursor:
          rows.length > query.limit && last
            ? this.cursors.encode([last.recordedAt, last.id], binding)
            : null,
      };
    });
  }

  /** Every consent record of a subject, for a subject access request. */
  async forSubject(em: EntityManager, tenantId: string, keyId: string): Promise<ConsentView[]> {
    return this.open(em, tenantId, await this.bySubjectKey(em, tenantId, keyId, null, 10_000));
  }

  private bySubjectKey(
    em: EntityManager,
    tenantId: string,
    keyId: string,
    after: unknown[] | null,
    limit: number,
  ): Promise<ConsentRow[]> {
    return em.query(
      `SELECT * FROM audit.consents WHERE tenant_id = $1 AND subject_key = $2
         AND ($3::timestamptz IS NULL OR (recorded_at, id) > ($3::timestamptz, $4::uuid))
       ORDER BY recorded_at, id LIMIT $5`,
      [tenantId, keyId, after?.[0] ?? null, after?.[1] ?? null, limit],
    );
  }

  private async open(em: EntityManager, tenantId: string, rows: ConsentRow[]) {
    const keyIds = rows.flatMap((r) => [r.subject_key, r.recorded_by_key]);
    const keys = await this.keys.load(
      em,
      tenantId,
      keyIds.filter((k) => k !== null),
    );
    return rows.map((r): ConsentView => {
      const subjectKey = keys.get(r.subject_key);
      const byKey = r.recorded_by_key ? keys.get(r.recorded_by_key) : undefined;
      return {
        id: r.id,
        tenantId: r.tenant_id,
        subjectId: subjectKey
          ? this.cipher.open(subjectKey, r.subject_id, `consent:${r.id}:subject`)
          : null,
        purpose: r.purpose,
        policyVersion: r.policy_version,
        granted: r.granted,
        recordedAt: r.recorded_at.toISOString(),
        recordedBy: {
          type: r.recorded_by_type as ConsentView['recordedBy']['type'],
          id: !r.recorded_by_key
            ? r.recorded_by_id
            : byKey
              ? this.cipher.open(byKey, r.recorded_by_id, `consent:${r.id}:by`)
              : null,
        },
      };
    });
  }
}
