import { Injectable } from '@nestjs/common';
import type {
  AuditEventPage,
  AuditEventView,
  ListAuditEventsQuery,
  RequestOf,
  AuditExportPage,
} from '@lattice/contracts';
import { CursorCodec, TenantScope } from '@lattice/database';
import type { RequestContext } from '@lattice/request-context';
import type { EntityManager } from 'typeorm';
import { auditTenant } from '../audit-access';
import type { StoredEvent } from '../chain/hash-chain';
import { EventSealer } from '../privacy/event-sealer';
import { SubjectKeyRepository } from '../privacy/subject-keys.repository';
import { AuditEventRepository, type EventQuery } from './audit-event.repository';

/** Reads a tenant's trail a page at a time, with personal fields opened where they still can be. */
@Injectable()
export class AuditQueryService {
  constructor(
    private readonly scope: TenantScope,
    private readonly events: AuditEventRepository,
    private readonly keys: SubjectKeyRepository,
    private readonly sealer: EventSealer,
    private readonly cursors: CursorCodec,
  ) {}

  /** Newest first, filtered. */
  async query(ctx: RequestContext, request: ListAuditEventsQuery): Promise<AuditEventPage> {
    const { limit, cursor, tenantId: requested, ...filters } = request;
    const tenantId = auditTenant(ctx, requested);
    return this.page(tenantId, filters, 'newest', cursor, limit);
  }

  /** Oldest first within [from, to): the pages an export streams one after another. */
  async exportPage(
    ctx: RequestContext,
    request: RequestOf<typeof AuditExportPage>,
  ): Promise<AuditEventPage> {
    const { limit, cursor, tenantId: requested, from, to } = request;
    const tenantId = auditTenant(ctx, requested);
    return this.page(tenantId, { from, to }, 'oldest', cursor, limit);
  }

  private page(
    tenantId: string,
    filters: EventQuery,
    order: 'newest' | 'oldest',
    cursor: string | undefined,
    limit: number,
  ): Promise<AuditEventPage> {
    const binding = { tenantId, order, filters };
    const after = cursor ? (this.cursors.decode(cursor, binding)[0] as number) : null;
    return this.scope.run(tenantId, async (em) => {
      const query: EventQuery = { ...filters };
      if (filters.actorId) {
        query.actorKeyId = (await this.keys.find(em, tenantId, filters.actorId))?.keyId ?? null;
      }
      const rows = await this.events.page(em, tenantId, query, order, after, limit + 1);
      const items = await this.open(em, tenantId, rows.slice(0, limit));
      const last = items[items.length - 1];
      return {
        items,
        nextCursor: rows.length > limit && last ? this.cursors.encode([last.seq], binding) : null,
      };
    });
  }

  async open(em: EntityManager, tenantId: string, rows: StoredEvent[]): Promise<AuditEventView[]> {
    const keyIds = rows.flatMap((r) => [r.actorKey, r.subjectKey]).filter((k) => k !== null);
    const keys = await this.keys.load(em, tenantId, keyIds);
    return rows.map((row) => this.sealer.open(row, keys));
  }
}
