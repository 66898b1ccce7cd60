import { Injectable } from '@nestjs/common';
import type { ChainBreak, ChainReport } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { Clock } from '@lattice/service-runtime';
import type { EntityManager } from 'typeorm';
import { AuditEventRepository } from '../events/audit-event.repository';
import { CheckpointRepository } from './checkpoint.repository';
import { CheckpointSigner, type CheckpointKind, type SignedCheckpoint } from './checkpoint-signer';
import { ChainWalker, GENESIS_HASH, type ChainPosition } from './hash-chain';

const PAGE = 1_000;

/** Signs checkpoints of tenants' chains and walks a chain to prove it intact. */
@Injectable()
export class ChainService {
  constructor(
    private readonly scope: TenantScope,
    private readonly events: AuditEventRepository,
    private readonly checkpoints: CheckpointRepository,
    private readonly signer: CheckpointSigner,
    private readonly clock: Clock,
  ) {}

  /**
   * Signs the chain's state at `seq` (its head when omitted) unless it is signed already.
   * Nothing past the head is ever signed, nor a head whose hash is not its event's.
   */
  async checkpoint(
    tenantId: string,
    seq?: number,
    kind: CheckpointKind = 'periodic',
  ): Promise<SignedCheckpoint | null> {
    return this.scope.run(tenantId, async (em) => {
      const head = await this.events.head(em, tenantId);
      const at = seq ?? head.seq;
      if (at < 1 || at > head.seq) return null;
      const hash = await this.events.hashAt(em, tenantId, at);
      if (!hash || (at === head.seq && hash !== head.hash)) return null;
      const signed = this.signer.sign({
        tenantId,
        seq: at,
        hash,
        signedAt: this.clock.now().toISOString(),
        kind,
      });
      await this.checkpoints.insert(em, signed);
      return signed;
    });
  }

  /** Checkpoints every tenant whose chain grew since its last one. Returns how many. */
  async checkpointAll(): Promise<number> {
    const tenants = await this.scope.runAsPlatform((em) => this.events.tenants(em));
    let signed = 0;
    for (const tenantId of tenants) {
      const due = await this.scope.run(tenantId, async (em) => {
        const head = await this.events.head(em, tenantId);
        return head.seq > (await this.checkpoints.latestSeq(em, tenantId));
      });
      if (due && (await this.checkpoint(tenantId))) signed++;
    }
    return signed;
  }

  /**
   * Walks the tenant's chain from its anchor (the genesis, or the retention checkpoint
   * retention left behind) through every event stored, checking every link and every
   * checkpoint on the way, and that the walk ends exactly at the recorded head: an event or a
   * signed checkpoint beyond the head, or a head that is not the last event, is a break.
   */
  async verify(tenantId: string): Promise<ChainReport> {
    // the checkpoints first, then the head with what is stored: every checkpoint read was
    // signed on a chain at least that long, so one beyond the head means the chain was cut
    const start = await this.scope.run(tenantId, async (em) => {
      const checkpoints = await this.checkpoints.list(em, tenantId);
      return { checkpoints, ...(await this.events.chainState(em, tenantId)) };
    });
    const { head, stored, checkpoints } = start;
    const report = (anchorSeq: number, walker: ChainWalker | null, firstBreak: ChainBreak | null) =>
      ({
        tenantId,
        valid: firstBreak === null,
        anchorSeq,
        headSeq: head.seq,
        eventsChecked: walker?.eventsChecked ?? 0,
        checkpointsChecked: checkpoints.length,
        firstBreak,
        publicKey: this.signer.publicKeyPem,
      }) satisfies ChainReport;

    for (const checkpoint of checkpoints) {
      if (!this.signer.verify(checkpoint)) {
        return report(0, null, {
          seq: checkpoint.seq,
          eventId: null,
          reason: 'checkpoint-signature',
          detail: `the ${checkpoint.kind} checkpoint’s signature does not verify`,
        });
      }
    }
    const anchor = this.anchor(stored?.first ?? null, head, checkpoints);
    if ('reason' in anchor) return report(0, null, anchor);

    const walker = new ChainWalker(anchor);
    const signedAt = new Map<number, SignedCheckpoint[]>();
    for (const c of checkpoints) signedAt.set(c.seq, [...(signedAt.get(c.seq) ?? []), c]);
    // events written after the walk began are the next walk's; anything else stored is walked
    const end = stored?.last ?? 0;
    let from = anchor.seq + 1;
    walk: while (from <= end) {
      const page = await this.scope.run(tenantId, (em: EntityManager) =>
        this.events.chainFrom(em, tenantId, from, PAGE),
      );
      for (const event of page) {
        if (event.seq > end) break walk;
        if (event.seq > head.seq) {
          const reached = walker.position.seq;
          if (reached < head.seq) {
            return report(anchor.seq, walker, missing(reached + 1, `the chain ends at ${reached}`));
          }
          return report(anchor.seq, walker, {
            seq: event.seq,
            eventId: event.id,
            reason: 'head-mismatch',
            detail: `the event is stored past the chain’s head at ${head.seq}`,
          });
        }
        const broken = walker.next(event);
        if (broken) return report(anchor.seq, walker, broken);
        if ((signedAt.get(event.seq) ?? []).some((c) => c.hash !== event.hash)) {
          return report(anchor.seq, walker, {
            seq: event.seq,
            eventId: event.id,
            reason: 'checkpoint-mismatch',
            detail: 'the event’s hash differs from the one its signed checkpoint recorded',
          });
        }
      }
      if (page.length < PAGE) break;
      from = page[page.length - 1]!.seq + 1;
    }

    const reached = walker.position;
    if (reached.seq < head.seq) {
      return report(
        anchor.seq,
        walker,
        missing(reached.seq + 1, `the chain ends at ${reached.seq} but its head is at ${head.seq}`),
      );
    }
    const beyond = checkpoints.find((c) => c.seq > reached.seq);
    if (beyond) {
      return report(
        anchor.seq,
        walker,
        missing(
          reached.seq + 1,
          `a signed checkpoint vouches for event ${beyond.seq}, but the chain ends at ${reached.seq}`,
        ),
      );
    }
    if (reached.seq !== head.seq || reached.hash !== head.hash) {
      return report(anchor.seq, walker, {
        seq: head.seq,
        eventId: null,
        reason: 'head-mismatch',
        detail: `the chain’s head records ${head.seq} and a hash that are not its last event’s`,
      });
    }
    return report(anchor.seq, walker, null);
  }

  /**
   * Where the walk starts: the genesis when the first event is still there, else the
   * retention checkpoint on the last event retention removed. A periodic checkpoint never
   * anchors: events gone down to one were deleted, not retained.
   */
  private anchor(
    firstSeq: number | null,
    head: ChainPosition,
    checkpoints: SignedCheckpoint[],
  ): ChainPosition | ChainBreak {
    // the last of the events gone from the start of the chain (with none stored, all of them)
    const gone =
      firstSeq !== null ? firstSeq - 1 : Math.max(head.seq, ...checkpoints.map((c) => c.seq));
    if (gone === 0) return { seq: 0, hash: GENESIS_HASH };
    const cuts = checkpoints.filter((c) => c.kind === 'retention' && c.seq <= gone);
    const cut = cuts[cuts.length - 1];
    if (cut?.seq === gone) return { seq: cut.seq, hash: cut.hash };
    return missing(
      (cut?.seq ?? 0) + 1,
      `events up to ${gone} are gone without a retention checkpoint`,
    );
  }
}

function missing(seq: number, detail: string): ChainBreak {
  return { seq, eventId: null, reason: 'missing-event', detail };
}
