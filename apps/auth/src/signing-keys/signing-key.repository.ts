import { Injectable } from '@nestjs/common';
import type { JWK } from 'jose';
import { DataSource } from 'typeorm';

export interface SigningKeyRow {
  kid: string;
  public_jwk: JWK;
  private_jwk_sealed: string;
  created_at: Date;
}

/** The platform's token signing keys: not any tenant's, so outside every tenant scope. */
@Injectable()
export class SigningKeyRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The public halves that still verify at `now`, newest first. */
  async published(now: Date): Promise<JWK[]> {
    const rows: { public_jwk: JWK }[] = await this.dataSource.query(
      `SELECT public_jwk FROM auth.signing_keys
        WHERE verify_until IS NULL OR verify_until > $1 ORDER BY created_at DESC`,
      [now],
    );
    return rows.map((r) => r.public_jwk);
  }

  async active(): Promise<SigningKeyRow | undefined> {
    const rows: SigningKeyRow[] = await this.dataSource.query(
      `SELECT kid, public_jwk, private_jwk_sealed, created_at
         FROM auth.signing_keys WHERE retired_at IS NULL`,
    );
    return rows[0];
  }

  /**
   * Retires the active key (it verifies until `verifyUntil`) and stores its successor, one
   * rotation at a time across replicas; returns the kids retired.
   */
  replaceActive(
    key: { kid: string; alg: string; publicJwk: JWK; privateJwkSealed: string },
    now: Date,
    verifyUntil: Date,
  ): Promise<string[]> {
    return this.dataSource.transaction(async (em) => {
      await em.query(`SELECT pg_advisory_xact_lock(hashtext('auth.signing-keys'))`);
      // TypeORM answers an UPDATE with [rows, count]
      const [old]: [{ kid: string }[]] = await em.query(
        `UPDATE auth.signing_keys SET retired_at = $1, verify_until = $2
          WHERE retired_at IS NULL RETURNING kid`,
        [now, verifyUntil],
      );
      await em.query(
        `INSERT INTO auth.signing_keys (kid, alg, public_jwk, private_jwk_sealed, created_at)
         VALUES ($1, $2, $3, $4, $5)`,
        [key.kid, key.alg, key.publicJwk, key.privateJwkSealed, now],
      );
      return old.map((r) => r.kid);
    });
  }
}
