import { Inject, Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import type { Logger } from 'pino';
import type { AuditEvent } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { Clock, LOGGER, MetricsRegistry } from '@lattice/service-runtime';
import { AuditEventRepository, isDuplicateId } from '../events/audit-event.repository';
import { extendChain, type ChainPosition } from '../chain/hash-chain';
import { EventSealer, subjectsOf } from '../privacy/event-sealer';
import { SubjectKeyRepository, type SubjectKey } from '../privacy/subject-keys.repository';
import { ParkedEventRepository, type SealedEvent } from './parked-event.repository';
import { SerialByKey } from './serial-by-key';

/**
 * The event with its ids as PostgreSQL gives them back (a uuid reads back in lower case): what
 * is hashed, grouped and compared with stored ids must be what is read back later, or the
 * chain would not verify and a duplicate would not be recognised.
 */
function asStored(event: AuditEvent): AuditEvent {
  const id = event.id.toLowerCase();
  const tenantId = event.tenantId.toLowerCase();
  return id === event.id && tenantId === event.tenantId ? event : { ...event, id, tenantId };
}

/** What one tenant's transaction did with its share of a batch. */
interface TenantOutcome {
  written: number;
  parked: number;
  head: ChainPosition;
  lastSeq: number;
}

/** Why a chain takes no events: rows stored past its head, which nothing but a hand wrote. */
const PAST_HEAD = 'rows-past-head';

/**
 * Writes events to their tenants' chains. Per tenant, one transaction holds the chain head's
 * lock, numbers and links the events, and writes them all in one statement: concurrent
 * batches queue on the lock instead of forking the chain. An event whose id is stored already
 * (a redelivery) fails that statement on the trail's unique index; the transaction then runs
 * again, dropping the stored events first, so a duplicate never takes a sequence number. Ids
 * are not looked up before that: the index looks every one up anyway, and a redelivery is rare.
 *
 * Events are sealed before that, in a transaction of their own that finds (or makes) their
 * subjects' keys: a tenant's next batch is sealed while the one before it is still being
 * written, so sealing, the largest part of an event's work here, is not spent while the
 * chain waits. A key made for a batch that then fails stays, and serves the redelivery.
 *
 * Batches may be handed over while earlier ones are still being written. Within this process
 * a tenant's share of a batch joins its chain after its share of the batches before (its
 * events join the chain in the order they came); different tenants' chains are written side
 * by side.
 *
 * A chain with rows stored past its head was written to by hand: extending it would collide
 * with those rows and fail the batch on every redelivery. Its events are parked instead
 * (logged and counted), and join the chain, in order, with the first batch after a repair.
 */
@Injectable()
export class AuditIngestService {
  private readonly parkedTotal: Counter<'reason'>;
  /** One writer per tenant chain in this process, batches in the order they were handed over. */
  private readonly chains = new SerialByKey();

  constructor(
    private readonly scope: TenantScope,
    private readonly events: AuditEventRepository,
    private readonly parked: ParkedEventRepository,
    private readonly keys: SubjectKeyRepository,
    private readonly sealer: EventSealer,
    private readonly clock: Clock,
    metrics: MetricsRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.parkedTotal = new Counter({
      name: 'lattice_audit_events_parked_total',
      help: 'Audit events set aside because their tenant’s chain could not be extended.',
      labelNames: ['reason'],
      registers: [metrics.registry],
    });
  }

  /** Stores a batch of events. Returns how many were new. */
  async ingest(batch: AuditEvent[]): Promise<number> {
    const byTenant = new Map<string, AuditEvent[]>();
    for (const given of batch) {
      const event = asStored(given);
      const list = byTenant.get(event.tenantId) ?? [];
      list.push(event);
      byTenant.set(event.tenantId, list);
    }
    // taken as the batch is handed over, so that along a chain it never goes back in time
    const recordedAt = this.clock.now();
    // tenants' chains are independent: their transactions run side by side
    const written = await Promise.all(
      [...byTenant].map(([tenantId, events]) => {
        // sealed at once, side by side with the tenant's batches before this one
        const sealing = this.sealAll(tenantId, events, recordedAt);
        // awaited in its turn below; until then its failure is not an unhandled one
        sealing.catch(() => undefined);
        return this.chains.run(tenantId, async () => this.ingestTenant(tenantId, await sealing));
      }),
    );
    return written.reduce((a, b) => a + b, 0);
  }

  /** The events as they will be stored, their personal data sealed under their subjects' keys. */
  private async sealAll(
    tenantId: string,
    batch: AuditEvent[],
    recordedAt: Date,
  ): Promise<SealedEvent[]> {
    const subjects = batch.flatMap((e) => {
      const { actor, subject } = subjectsOf(e);
      return [actor, subject].filter((s): s is string => s !== null);
    });
    const keys =
      subjects.length === 0
        ? new Map<string, SubjectKey>()
        : await this.scope.run(tenantId, (em) => this.keys.resolve(em, tenantId, subjects));
    return batch.map((e) => this.sealer.seal(e, keys, recordedAt));
  }

  private async ingestTenant(tenantId: string, batch: SealedEvent[]): Promise<number> {
    let outcome: TenantOutcome;
    try {
      outcome = await this.writeTenant(tenantId, batch, false);
    } catch (error) {
      if (!isDuplicateId(error)) throw error;
      // the trail holds one of the batch's ids (a redelivery): again, dropping what is stored
      outcome = await this.writeTenant(tenantId, batch, true);
    }
    if (outcome.parked > 0) {
      this.parkedTotal.inc({ reason: PAST_HEAD }, outcome.parked);
      this.logger.error(
        {
          tenantId,
          parked: outcome.parked,
          headSeq: outcome.head.seq,
          lastStoredSeq: outcome.lastSeq,
        },
        'audit chain has rows past its head (tampered?): events parked until it is repaired',
      );
    }
    return outcome.written;
  }

  /**
   * One transaction extending the tenant's chain with the batch. The trail's unique index
   * refuses an id it holds already, failing the whole statement: the stored ids are looked up
   * first only when `lookUpIds` (the index refused one before) or before events are parked.
   */
  private async writeTenant(
    tenantId: string,
    batch: SealedEvent[],
    lookUpIds: boolean,
  ): Promise<TenantOutcome> {
    return this.scope.run(tenantId, async (em) => {
      const head = await this.events.lockHead(em, tenantId);
      const state = await this.events.beforeAppend(em, tenantId);
      const lastSeq = state.lastSeq;
      const jammed = lastSeq > head.seq;
      const stored =
        lookUpIds || jammed
          ? await this.events.storedIds(
              em,
              tenantId,
              batch.map((e) => e.id),
            )
          : new Set<string>();
      const waiting = jammed || !state.parked ? [] : await this.parked.takeAll(em, tenantId);
      for (const event of waiting) stored.add(event.id);
      const sealed: SealedEvent[] = [];
      for (const event of batch) {
        if (stored.has(event.id)) continue;
        stored.add(event.id);
        sealed.push(event);
      }
      if (sealed.length === 0 && waiting.length === 0)
        return { written: 0, parked: 0, head, lastSeq };
      if (jammed) {
        // a redelivery of what is parked already is not parked twice
        const parked = await this.parked.park(em, tenantId, sealed, PAST_HEAD);
        return { written: 0, parked, head, lastSeq };
      }
      // under the head's lock nothing else writes this chain: a collision on a sequence
      // number means something wrote around the lock, and the whole batch is rolled back
      const chained = extendChain(head, [...waiting, ...sealed]);
      await this.events.append(em, tenantId, chained.events, chained.head);
      if (waiting.length > 0) {
        this.logger.warn(
          { tenantId, events: waiting.length, fromSeq: head.seq + 1 },
          'parked audit events joined their repaired chain',
        );
      }
      return { written: chained.events.length, parked: 0, head, lastSeq };
    });
  }
}
