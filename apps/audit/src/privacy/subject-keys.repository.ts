import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { SubjectCipher } from './subject-cipher';

/** A subject's key as ingest uses it; `key` is null once the subject has been erased. */
export interface SubjectKey {
  keyId: string;
  key: Buffer | null;
}

/** Rows of `audit.subject_keys`, always inside the tenant's scoped transaction. */
@Injectable()
export class SubjectKeyRepository {
  constructor(private readonly cipher: SubjectCipher) {}

  /**
   * The keys of these subjects, creating those that do not exist yet. A subject erased
   * before gets a key that is never stored, so what is sealed for them cannot be read.
   * Subjects seen before cost one read; only new ones get a key made, wrapped and stored.
   */
  async resolve(
    em: EntityManager,
    tenantId: string,
    subjectIds: string[],
  ): Promise<Map<string, SubjectKey>> {
    const unique = [...new Set(subjectIds)];
    const keys = new Map<string, SubjectKey>();
    if (unique.length === 0) return keys;
    const lookups = unique.map((s) => this.cipher.lookup(tenantId, s));
    // one index probe per subject: given `lookup = ANY(...)` the planner may scan every key
    // of a tenant its statistics think has few
    const stored = async (wanted: string[]) => {
      const rows: { key_id: string; lookup: string; wrapped_key: string | null }[] = await em.query(
        `SELECT k.key_id, k.lookup, k.wrapped_key FROM unnest($2::text[]) AS x(lookup),
                LATERAL (SELECT key_id, lookup, wrapped_key FROM audit.subject_keys
                          WHERE tenant_id = $1 AND lookup = x.lookup LIMIT 1) AS k`,
        [tenantId, wanted],
      );
      return rows;
    };
    const byLookup = new Map((await stored(lookups)).map((r) => [r.lookup, r]));
    const missing = lookups.filter((l) => !byLookup.has(l));
    if (missing.length > 0) {
      const fresh = missing.map(() => randomUUID());
      await em.query(
        `INSERT INTO audit.subject_keys (tenant_id, key_id, lookup, wrapped_key)
         SELECT $1, k, l, w FROM unnest($2::uuid[], $3::text[], $4::text[]) AS t(k, l, w)
         ON CONFLICT (tenant_id, lookup) DO NOTHING`,
        [tenantId, fresh, missing, fresh.map((id) => this.cipher.wrap(this.cipher.newKey(), id))],
      );
      // what another writer stored first wins over ours
      for (const row of await stored(missing)) byLookup.set(row.lookup, row);
    }
    unique.forEach((subject, i) => {
      const row = byLookup.get(lookups[i]!)!;
      keys.set(subject, {
        keyId: row.wrapped_key ? row.key_id : randomUUID(),
        key: row.wrapped_key
          ? this.cipher.unwrap(row.wrapped_key, row.key_id)
          : this.cipher.newKey(),
      });
    });
    return keys;
  }

  /** The live key of one subject, or null when they have none (never seen, or erased). */
  async find(em: EntityManager, tenantId: string, subjectId: string): Promise<SubjectKey | null> {
    const [row]: { key_id: string; wrapped_key: string | null }[] = await em.query(
      `SELECT key_id, wrapped_key FROM audit.subject_keys WHERE tenant_id = $1 AND lookup = $2`,
      [tenantId, this.cipher.lookup(tenantId, subjectId)],
    );
    if (!row?.wrapped_key) return null;
    return { keyId: row.key_id, key: this.cipher.unwrap(row.wrapped_key, row.key_id) };
  }

  /** Live keys by id, for opening what was sealed under them. */
  async load(em: EntityManager, tenantId: string, keyIds: string[]): Promise<Map<string, Buffer>> {
    const unique = [...new Set(keyIds)];
    if (unique.length === 0) return new Map();
    // one index probe per key, as in `resolve`
    const rows: { key_id: string; wrapped_key: string }[] = await em.query(
      `SELECT k.key_id, k.wrapped_key FROM unnest($2::uuid[]) AS x(key_id),
              LATERAL (SELECT key_id, wrapped_key FROM audit.subject_keys
                        WHERE tenant_id = $1 AND key_id = x.key_id AND wrapped_key IS NOT NULL
                        LIMIT 1) AS k`,
      [tenantId, unique],
    );
    return new Map(rows.map((r) => [r.key_id, this.cipher.unwrap(r.wrapped_key, r.key_id)]));
  }

  /**
   * Crypto-shreds a subject: their key row goes, and a tombstone under a new id takes its
   * place, so later events about them are not readable either and nothing left points from
   * the old ciphertext to who it was about. Returns the erased key's id, if there was one.
   */
  async erase(em: EntityManager, tenantId: string, subjectId: string): Promise<string | null> {
    const lookup = this.cipher.lookup(tenantId, subjectId);
    const removed: { key_id: string }[] = await em.query(
      `DELETE FROM audit.subject_keys WHERE tenant_id = $1 AND lookup = $2 AND wrapped_key IS NOT NULL
       RETURNING key_id`,
      [tenantId, lookup],
    );
    await em.query(
      `INSERT INTO audit.subject_keys (tenant_id, key_id, lookup, wrapped_key, erased_at)
       VALUES ($1, $2, $3, NULL, now())
       ON CONFLICT (tenant_id, lookup) DO NOTHING`,
      [tenantId, randomUUID(), lookup],
    );
    return removed[0]?.key_id ?? null;
  }
}
