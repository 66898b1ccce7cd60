import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { CheckpointKind, SignedCheckpoint } from './checkpoint-signer';

/** Rows of `audit.checkpoints`, inside the tenant's scoped transaction. */
@Injectable()
export class CheckpointRepository {
  async insert(em: EntityManager, checkpoint: SignedCheckpoint): Promise<void> {
    await em.query(
      `INSERT INTO audit.checkpoints (tenant_id, seq, kind, hash, signed_at, key_id, signature)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, seq, kind) DO NOTHING`,
      [
        checkpoint.tenantId,
        checkpoint.seq,
        checkpoint.kind,
        checkpoint.hash,
        checkpoint.signedAt,
        checkpoint.keyId,
        checkpoint.signature,
      ],
    );
  }

  async list(em: EntityManager, tenantId: string): Promise<SignedCheckpoint[]> {
    const rows: {
      tenant_id: string;
      seq: string;
      kind: CheckpointKind;
      hash: string;
      signed_at: Date;
      key_id: string;
      signature: string;
    }[] = await em.query(
      `SELECT tenant_id, seq, kind, hash, signed_at, key_id, signature FROM audit.checkpoints
        WHERE tenant_id = $1 ORDER BY seq, kind`,
      [tenantId],
    );
    return rows.map((r) => ({
      tenantId: r.tenant_id,
      seq: Number(r.seq),
      kind: r.kind,
      hash: r.hash,
      signedAt: r.signed_at.toISOString(),
      keyId: r.key_id,
      signature: r.signature,
    }));
  }

  async latestSeq(em: EntityManager, tenantId: string): Promise<number> {
    const [row]: { seq: string | null }[] = await em.query(
      `SELECT max(seq) AS seq FROM audit.checkpoints WHERE tenant_id = $1`,
      [tenantId],
    );
    return row?.seq ? Number(row.seq) : 0;
  }

  /**
   * Removes the events up to a retention checkpoint through the one function allowed to
   * delete them.
   */
  async removeSegment(em: EntityManager, tenantId: string, throughSeq: number): Promise<number> {
    const [row]: { removed: string }[] = await em.query(
      `SELECT audit.remove_segment($1, $2) AS removed`,
      [tenantId, throughSeq],
    );
    return Number(row!.removed);
  }
}
