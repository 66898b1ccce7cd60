import { Injectable } from '@nestjs/common';
import type { AuditEvent } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { Clock } from '@lattice/service-runtime';
import { AuditEventRepository } from '../events/audit-event.repository';
import { extendChain } from '../chain/hash-chain';
import { EventSealer, subjectsOf } from '../privacy/event-sealer';
import { SubjectKeyRepository } from '../privacy/subject-keys.repository';

/**
 * Writes events to their tenants' chains. Per tenant, one transaction holds the chain head's
 * lock, drops what is already stored (a redelivery), seals, numbers and links the rest, and
 * writes them all in one statement: concurrent batches queue on the lock instead of forking
 * the chain, and a duplicate never takes a sequence number.
 */
@Injectable()
export class AuditIngestService {
  constructor(
    private readonly scope: TenantScope,
    private readonly events: AuditEventRepository,
    private readonly keys: SubjectKeyRepository,
    private readonly sealer: EventSealer,
    private readonly clock: Clock,
  ) {}

  /** Stores a batch of events. Returns how many were new. */
  async ingest(batch: AuditEvent[]): Promise<number> {
    const byTenant = new Map<string, AuditEvent[]>();
    for (const event of batch) {
      const list = byTenant.get(event.tenantId) ?? [];
      list.push(event);
      byTenant.set(event.tenantId, list);
    }
    // tenants' chains are independent: their transactions run side by side
    const written = await Promise.all(
      [...byTenant].map(([tenantId, events]) => this.ingestTenant(tenantId, events)),
    );
    return written.reduce((a, b) => a + b, 0);
  }

  private ingestTenant(tenantId: string, batch: AuditEvent[]): Promise<number> {
    return this.scope.run(tenantId, async (em) => {
      const head = await this.events.lockHead(em, tenantId);
      const stored = await this.events.existingIds(
        em,
        tenantId,
        batch.map((e) => e.id),
      );
      const fresh: AuditEvent[] = [];
      for (const event of batch) {
        if (stored.has(event.id)) continue;
        stored.add(event.id);
        fresh.push(event);
      }
      if (fresh.length === 0) return 0;
      const subjects = fresh.flatMap((e) => {
        const { actor, subject } = subjectsOf(e);
        return [actor, subject].filter((s): s is string => s !== null);
      });
      const keys = await this.keys.resolve(em, tenantId, subjects);
      const recordedAt = this.clock.now();
      const chained = extendChain(
        head,
        fresh.map((e) => this.sealer.seal(e, keys, recordedAt)),
      );
      const inserted = await this.events.insertMany(em, chained.events);
      // under the head's lock nothing else can have written these ids; if something did,
      // the chain would have a hole, so the whole batch is rolled back and retried
      if (inserted !== chained.events.length) {
        throw new Error(`expected to write ${chained.events.length} events, wrote ${inserted}`);
      }
      await this.events.moveHead(em, tenantId, chained.head);
      return inserted;
    });
  }
}
