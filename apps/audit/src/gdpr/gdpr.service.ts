import { Inject, Injectable } from '@nestjs/common';
import type { z } from 'zod';
import {
  DomainError,
  ErrorCode,
  GdprErase,
  GdprSubjectAccess,
  type GdprAccessDocument,
  type GdprErasureReport,
  type GdprServiceData,
  type GdprServiceErasure,
  type GdprServiceRequest,
  type RpcContract,
  type GdprSubjectRequest,
} from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { RpcClient } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { Clock } from '@lattice/service-runtime';
import { subjectTenant } from '../audit-access';
import { ConsentService } from '../consents/consent.service';
import { AuditEventRepository } from '../events/audit-event.repository';
import { AuditQueryService } from '../events/audit-query.service';
import { SubjectKeyRepository } from '../privacy/subject-keys.repository';

export const GDPR_SETTINGS = Symbol('GDPR_SETTINGS');
export interface GdprSettings {
  /** How long a gathering waits for every service's answer. */
  waitMs: number;
  /** The services that hold personal data: each must answer, or the request fails. */
  services: string[];
}

type Gathered<T> = ({ ok: true; reply: T } | { ok: false; error: DomainError })[];

/** The most audit events one subject access document carries. */
export const SUBJECT_ACCESS_EVENT_LIMIT = 10_000;

/**
 * Subject access and erasure across the platform: asks every service that holds personal
 * data (a scatter-gather on `gdpr.v1.*`, which this service answers too, for its own data)
 * and puts the answers together. Each service named in the settings must answer: where one
 * is silent or fails, the request fails as `Unavailable` (a 503 at the gateway) naming it,
 * with what the others answered, since a partial erasure or a partial document must never
 * pass for a whole one. Both are safe to repeat: erasing again erases nothing new.
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
    @Inject(GDPR_SETTINGS) private readonly settings: GdprSettings,
  ) {}

  async access(ctx: RequestContext, request: GdprSubjectRequest): Promise<GdprAccessDocument> {
    const tenantId = subjectTenant(ctx, request.tenantId, request.subjectId);
    const replies = await this.askEveryService(GdprSubjectAccess, tenantId, request.subjectId, ctx);
    const answered = this.complete('subject access', replies, (services) => ({
      services: [...services.keys()],
    }));
    return {
      tenantId,
      subjectId: request.subjectId,
      generatedAt: this.clock.now().toISOString(),
      services: Object.fromEntries([...answered].map(([service, r]) => [service, r.data])),
    };
  }

  async erase(ctx: RequestContext, request: GdprSubjectRequest): Promise<GdprErasureReport> {
    const tenantId = subjectTenant(ctx, request.tenantId, request.subjectId, 'delete');
    const replies = await this.askEveryService(GdprErase, tenantId, request.subjectId, ctx);
    const answered = this.complete('erasure', replies, (services) => ({
      services: [...services.values()],
    }));
    return {
      tenantId,
      subjectId: request.subjectId,
      erasedAt: this.clock.now().toISOString(),
      services: [...answered.values()],
    };
  }

  /** Asks every service holding personal data about the subject, for as long as configured. */
  private askEveryService<Res extends z.ZodType>(
    contract: RpcContract<typeof GdprServiceRequest, Res>,
    tenantId: string,
    subjectId: string,
    ctx: RequestContext,
  ): Promise<Gathered<z.output<Res>>> {
    return this.rpc.requestMany(contract, { tenantId, subjectId }, ctx, {
      maxWaitMs: this.settings.waitMs,
    });
  }

  /**
   * The replies by service, once every required service answered and none failed; otherwise
   * an `Unavailable` error naming the services missing, the failures, and (from `done`) what
   * the services that did answer reported.
   */
  private complete<T extends { service: string }>(
    what: string,
    replies: Gathered<T>,
    done: (answered: Map<string, T>) => Record<string, unknown>,
  ): Map<string, T> {
    const answered = new Map<string, T>();
    const failures: { code: ErrorCode; message: string }[] = [];
    for (const r of replies) {
      if (r.ok) answered.set(r.reply.service, r.reply);
      else failures.push({ code: r.error.code, message: r.error.message });
    }
    const missing = this.settings.services.filter((s) => !answered.has(s));
    if (missing.length === 0 && failures.length === 0) {
      return new Map([...answered].sort(([a], [b]) => a.localeCompare(b)));
    }
    const who =
      missing.length > 0 ? `no successful reply from ${missing.join(', ')}` : 'a service failed';
    throw new DomainError(
      ErrorCode.Unavailable,
      `the ${what} is incomplete: ${who}; it is safe to ask again`,
      { missing, failures, ...done(answered) },
    );
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
