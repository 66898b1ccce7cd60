import type { MigrationInterface, QueryRunner } from 'typeorm';
import { tenantIsolationSql, usageOutboxTableSql } from '@lattice/database';

/**
 * One row per answered (or refused) question, under row-level security: who asked, as a
 * pseudonymous id (an HMAC of the tenant and the actor, never the actor's id), which UTC day,
 * the tokens estimated before the call and those the model server counted after. The question
 * itself is never stored, only its keyed hash. And the outbox of the tokens metered to USAGE.
 */
export class RagQueries1768200000000 implements MigrationInterface {
  name = 'RagQueries1768200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE rag.queries (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        actor_pseudonym text NOT NULL CHECK (actor_pseudonym ~ '^[0-9a-f]{64}$'),
        day date NOT NULL,
        collection_id uuid NOT NULL,
        question_hash text NOT NULL CHECK (question_hash ~ '^[0-9a-f]{64}$'),
        outcome text NOT NULL CHECK (outcome IN ('answered', 'refused-question', 'refused-answer')),
        job_id uuid,
        model text,
        estimated_prompt_tokens integer NOT NULL DEFAULT 0 CHECK (estimated_prompt_tokens >= 0),
        estimated_completion_tokens integer NOT NULL DEFAULT 0
          CHECK (estimated_completion_tokens >= 0),
        counted_prompt_tokens integer NOT NULL DEFAULT 0 CHECK (counted_prompt_tokens >= 0),
        counted_completion_tokens integer NOT NULL DEFAULT 0
          CHECK (counted_completion_tokens >= 0),
        usage_counted boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX queries_tenant_day ON rag.queries (tenant_id, day)`);
    await q.query(`CREATE INDEX queries_tenant_actor ON rag.queries (tenant_id, actor_pseudonym)`);
    for (const sql of tenantIsolationSql('rag', 'queries')) await q.query(sql);
    // the service's one usage outbox, shared with storage metering: made here unless there
    const [{ exists }] = (await q.query(
      `SELECT to_regclass('rag.usage_outbox') IS NOT NULL AS exists`,
    )) as [{ exists: boolean }];
    if (!exists) for (const sql of usageOutboxTableSql('rag')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE rag.queries`);
  }
}
