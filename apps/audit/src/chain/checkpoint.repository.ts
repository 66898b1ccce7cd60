import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { SignedCheckpoint } from './checkpoint-signer';

/** Rows of `audit.checkpoints`, inside the tenant's scoped transaction. */
@Injectable()
export class CheckpointRepository {
  async insert(em: EntityManager, checkpoint: SignedCheckpoint): Promise<void> {
    await em.query(
      `INSERT INTO audit.checkpoints (tenant_id, seq, hash, signed_at, key_id, signature)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, seq) DO NOTHING`,
      [
        checkpoint.tenantId,
        checkpoint.seq,
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
      hash: string;
      signed_at: Date;
      key_id: string;
      signature: string;
    }[] = await em.query(
      `SELECT tenant_id, seq, hash, signed_at, key_id, signature FROM audit.checkpoints
        WHERE tenant_id = $1 ORDER BY seq`,
      [tenantId],
    );
    return rows.map((r) => ({
      tenantId: r.tenant_id,
      seq: Number(r.seq),
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

  /** Removes the events up to a checkpoint through the one function allowed to delete them. */
  async removeSegment(em: EntityManager, tenantId: string, throughSeq: number): Promise<number> {
    const [row]: { removed: string }[] = await em.query(
      `SELECT audit.remove_segment($1, $2) AS removed`,
      [tenantId, throughSeq],
    );
    return Number(row!.removed);
  }
}
