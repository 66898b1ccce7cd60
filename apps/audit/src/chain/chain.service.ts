import { Injectable } from '@nestjs/common';
import type { ChainBreak, ChainReport } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { Clock } from '@lattice/service-runtime';
import type { EntityManager } from 'typeorm';
import { AuditEventRepository } from '../events/audit-event.repository';
import { CheckpointRepository } from './checkpoint.repository';
import { CheckpointSigner, type SignedCheckpoint } from './checkpoint-signer';
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

  /** Signs the chain's state at `seq` (its head when omitted) unless it is signed already. */
  async checkpoint(tenantId: string, seq?: number): Promise<SignedCheckpoint | null> {
    return this.scope.run(tenantId, async (em) => {
      const at = seq ?? (await this.events.bounds(em, tenantId))?.last;
      if (!at) return null;
      const hash = await this.events.hashAt(em, tenantId, at);
      if (!hash) return null;
      const signed = this.signer.sign({
        tenantId,
        seq: at,
        hash,
        signedAt: this.clock.now().toISOString(),
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
   * Walks the tenant's chain from its anchor (the genesis, or the checkpoint retention left
   * behind) to its head, checking every link and every checkpoint on the way.
   */
  async verify(tenantId: string): Promise<ChainReport> {
    const start = await this.scope.run(tenantId, async (em) => ({
      head: await this.events.head(em, tenantId),
      bounds: await this.events.bounds(em, tenantId),
      checkpoints: await this.checkpoints.list(em, tenantId),
    }));
    const checkpoints = start.checkpoints.filter((c) => c.seq <= Math.max(start.head.seq, 0));
    const headSeq = Math.max(start.head.seq, ...checkpoints.map((c) => c.seq), 0);
    const report = (anchorSeq: number, walker: ChainWalker | null, firstBreak: ChainBreak | null) =>
      ({
        tenantId,
        valid: firstBreak === null,
        anchorSeq,
        headSeq,
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
          detail: 'the checkpoint’s signature does not verify',
        });
      }
    }
    const anchor = this.anchor(start.bounds?.first ?? null, checkpoints, headSeq);
    if ('reason' in anchor) return report(0, null, anchor);

    const walker = new ChainWalker(anchor);
    const bySeq = new Map(checkpoints.map((c) => [c.seq, c]));
    let from = anchor.seq + 1;
    for (;;) {
      const page = await this.scope.run(tenantId, (em: EntityManager) =>
        this.events.chainFrom(em, tenantId, from, PAGE),
      );
      for (const event of page) {
        if (event.seq > headSeq) break;
        const broken = walker.next(event);
        if (broken) return report(anchor.seq, walker, broken);
        const checkpoint = bySeq.get(event.seq);
        if (checkpoint && checkpoint.hash !== event.hash) {
          return report(anchor.seq, walker, {
            seq: event.seq,
            eventId: event.id,
            reason: 'checkpoint-mismatch',
            detail: 'the event’s hash differs from the one its signed checkpoint recorded',
          });
        }
      }
      if (page.length < PAGE || page[page.length - 1]!.seq >= headSeq) break;
      from = page[page.length - 1]!.seq + 1;
    }
    const reached = walker.position.seq;
    if (reached < headSeq) {
      return report(anchor.seq, walker, {
        seq: reached + 1,
        eventId: null,
        reason: 'missing-event',
        detail: `the chain ends at ${reached} but reached ${headSeq}`,
      });
    }
    return report(anchor.seq, walker, null);
  }

  /**
   * Where the walk starts: the genesis when the first event is still there, else the signed
   * checkpoint just before the first event that is (what retention leaves behind).
   */
  private anchor(
    firstSeq: number | null,
    checkpoints: SignedCheckpoint[],
    headSeq: number,
  ): ChainPosition | ChainBreak {
    const genesis = { seq: 0, hash: GENESIS_HASH };
    const earliest = checkpoints[0];
    if (firstSeq === 1 || (firstSeq === null && headSeq === 0)) return genesis;
    if (earliest && (firstSeq === null || earliest.seq === firstSeq - 1)) {
      if (firstSeq === null && earliest.seq !== headSeq) {
        return missing(earliest.seq + 1, 'the events after the anchor checkpoint are gone');
      }
      return { seq: earliest.seq, hash: earliest.hash };
    }
    const gapEnd = (firstSeq ?? headSeq + 1) - 1;
    const before = checkpoints.filter((c) => c.seq < gapEnd).pop();
    return missing((before?.seq ?? 0) + 1, `events up to ${gapEnd} are gone without a checkpoint`);
  }
}

function missing(seq: number, detail: string): ChainBreak {
  return { seq, eventId: null, reason: 'missing-event', detail };
}
