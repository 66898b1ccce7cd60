import { Inject, Injectable } from '@nestjs/common';
import {
  GdprErase,
  GdprSubjectAccess,
  type GdprAccessDocument,
  type GdprErasureReport,
  type GdprServiceData,
  type GdprServiceErasure,
  type GdprServiceRequest,
  type GdprSubjectRequest,
} from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { RpcClient, type RequestContext } from '@lattice/messaging';
import { Clock } from '@lattice/service-runtime';
import { subjectTenant } from '../audit-access';
import { ConsentService } from '../consents/consent.service';
import { AuditEventRepository } from '../events/audit-event.repository';
import { AuditQueryService } from '../events/audit-query.service';
import { SubjectKeyRepository } from '../privacy/subject-keys.repository';

export const GDPR_WAIT_MS = Symbol('GDPR_WAIT_MS');

/** The most audit events one subject access document carries. */
export const SUBJECT_ACCESS_EVENT_LIMIT = 10_000;

/**
 * Subject access and erasure across the platform: asks every service that holds personal
 * data (a scatter-gather on `gdpr.v1.*`, which this service answers too, for its own data)
 * and puts the answers together.
 */
@Injectable()
export class GdprService {
  constructor(
    private readonly scope: TenantScope,
    private readonly rpc: RpcClient,
    private readonly events: AuditEventRepository,
    private readonly queries: AuditQueryService,
    private readonly keys: SubjectKeyRepository,
    private readonly consents: ConsentService,
    private readonly clock: Clock,
    @Inject(GDPR_WAIT_MS) private readonly waitMs: number,
  ) {}

  async access(ctx: RequestContext, request: GdprSubjectRequest): Promise<GdprAccessDocument> {
    const tenantId = subjectTenant(ctx, request.tenantId, request.subjectId);
    const replies = await this.rpc.requestMany(
      GdprSubjectAccess,
      { tenantId, subjectId: request.subjectId },
      ctx,
      { maxWaitMs: this.waitMs },
    );
    const services: Record<string, unknown> = {};
    for (const reply of replies) {
      if (reply.ok) services[reply.reply.service] = reply.reply.data;
    }
    return {
      tenantId,
      subjectId: request.subjectId,
      generatedAt: this.clock.now().toISOString(),
      services,
    };
  }

  async erase(ctx: RequestContext, request: GdprSubjectRequest): Promise<GdprErasureReport> {
    const tenantId = subjectTenant(ctx, request.tenantId, request.subjectId, 'delete');
    const replies = await this.rpc.requestMany(
      GdprErase,
      { tenantId, subjectId: request.subjectId },
      ctx,
      { maxWaitMs: this.waitMs },
    );
    return {
      tenantId,
      subjectId: request.subjectId,
      erasedAt: this.clock.now().toISOString(),
      services: replies.flatMap((r) => (r.ok ? [r.reply] : [])),
    };
  }

  /** This service's own answer: the subject's events (opened) and consent records. */
  ownData(ctx: RequestContext, request: GdprServiceRequest): Promise<GdprServiceData> {
    const tenantId = subjectTenant(ctx, request.tenantId, request.subjectId);
    return this.scope.run(tenantId, async (em) => {
      const key = await this.keys.find(em, tenantId, request.subjectId);
      if (!key) return { service: 'audit', data: { events: [], consents: [] } };
      const rows = await this.events.bySubjectKey(
        em,
        tenantId,
        key.keyId,
        SUBJECT_ACCESS_EVENT_LIMIT,
      );
      return {
        service: 'audit',
        data: {
          events: await this.queries.open(em, tenantId, rows),
          consents: await this.consents.forSubject(em, tenantId, key.keyId),
        },
      };
    });
  }

  /**
   * Crypto-shreds the subject in the audit trail: their key is destroyed, so their personal
   * fields can no longer be read, while every event, and the chain over them, stays.
   */
  eraseOwn(ctx: RequestContext, request: GdprServiceRequest): Promise<GdprServiceErasure> {
    const tenantId = subjectTenant(ctx, request.tenantId, request.subjectId, 'delete');
    return this.scope.run(tenantId, async (em) => {
      const key = await this.keys.find(em, tenantId, request.subjectId);
      const affected = key ? await this.events.countBySubjectKey(em, tenantId, key.keyId) : 0;
      await this.keys.erase(em, tenantId, request.subjectId);
      return { service: 'audit', erased: affected };
    });
  }
}
