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
import { ConsentRepository, type ConsentRow } from './consent.repository';

/**
 * What each user agreed to, and when: an append-only record per grant or withdrawal. The
 * subject (and a recording user) are sealed under their keys, so erasure reaches here too.
 */
@Injectable()
export class ConsentService {
  constructor(
    private readonly scope: TenantScope,
    private readonly consents: ConsentRepository,
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
      const row = await this.consents.insert(em, {
        tenant_id: tenantId,
        id,
        subject_key: subject.keyId,
        subject_id: this.cipher.seal(subject.key!, request.subjectId, `consent:${id}:subject`),
        purpose: request.purpose,
        policy_version: request.policyVersion,
        granted: request.granted,
        recorded_at: this.clock.now(),
        recorded_by_type: ctx.actor.type,
        recorded_by_key: by?.keyId ?? null,
        recorded_by_id: by
          ? this.cipher.seal(by.key!, ctx.actor.id, `consent:${id}:by`)
          : ctx.actor.id,
      });
      return (await this.open(em, tenantId, [row]))[0]!;
    });
  }

  async list(ctx: RequestContext, query: ListConsentsQuery): Promise<ConsentPage> {
    const tenantId = subjectTenant(ctx, query.tenantId, query.subjectId);
    const binding = { tenantId, subjectId: query.subjectId };
    const after = query.cursor ? this.cursors.decode(query.cursor, binding) : null;
    return this.scope.run(tenantId, async (em) => {
      const key = await this.keys.find(em, tenantId, query.subjectId);
      if (!key) return { items: [], nextCursor: null };
      const rows = await this.consents.bySubjectKey(
        em,
        tenantId,
        key.keyId,
        after,
        query.limit + 1,
      );
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
    return this.open(
      em,
      tenantId,
      await this.consents.bySubjectKey(em, tenantId, keyId, null, 10_000),
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
