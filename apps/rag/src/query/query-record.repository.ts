import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { affectedRows } from '@lattice/database';

export type QueryOutcome = 'answered' | 'refused-question' | 'refused-answer';

export interface QueryRecord {
  id: string;
  tenantId: string;
  actorPseudonym: string;
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  collectionId: string;
  questionHash: string;
  outcome: QueryOutcome;
  jobId: string | null;
  model: string | null;
  estimatedPromptTokens: number;
  estimatedCompletionTokens: number;
  countedPromptTokens: number;
  countedCompletionTokens: number;
  usageCounted: boolean;
}

export interface DailyTokens {
  day: string;
  requests: number;
  estimated: number;
  counted: number;
}

/** Query records. Every statement runs in a tenant's scope: row-level security shows it its own. */
@Injectable()
export class QueryRecordRepository {
  async insert(em: EntityManager, r: QueryRecord): Promise<void> {
    await em.query(
      `INSERT INTO rag.queries
         (id, tenant_id, actor_pseudonym, day, collection_id, question_hash, outcome, job_id,
          model, estimated_prompt_tokens, estimated_completion_tokens, counted_prompt_tokens,
          counted_completion_tokens, usage_counted)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [
        r.id,
        r.tenantId,
        r.actorPseudonym,
        r.day,
        r.collectionId,
        r.questionHash,
        r.outcome,
        r.jobId,
        r.model,
        r.estimatedPromptTokens,
        r.estimatedCompletionTokens,
        r.countedPromptTokens,
        r.countedCompletionTokens,
        r.usageCounted,
      ],
    );
  }

  /** Answered queries only, one row per UTC day in [from, to]. */
  async dailyTokens(em: EntityManager, from: string, to: string): Promise<DailyTokens[]> {
    const rows = (await em.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, count(*)::int AS requests,
              sum(estimated_prompt_tokens + estimated_completion_tokens)::bigint AS estimated,
              sum(counted_prompt_tokens + counted_completion_tokens)::bigint AS counted
         FROM rag.queries
        WHERE outcome = 'answered' AND day BETWEEN $1::date AND $2::date
        GROUP BY day ORDER BY day`,
      [from, to],
    )) as Array<{ day: string; requests: number; estimated: string; counted: string }>;
    return rows.map((r) => ({
      day: r.day,
      requests: r.requests,
      estimated: Number(r.estimated),
      counted: Number(r.counted),
    }));
  }

  async byActor(
    em: EntityManager,
    actorPseudonym: string,
  ): Promise<Omit<QueryRecord, 'tenantId' | 'actorPseudonym'>[]> {
    return (await em.query(
      `SELECT id, to_char(day, 'YYYY-MM-DD') AS day, collection_id AS "collectionId",
              question_hash AS "questionHash", outcome, job_id AS "jobId", model,
              estimated_prompt_tokens AS "estimatedPromptTokens",
              estimated_completion_tokens AS "estimatedCompletionTokens",
              counted_prompt_tokens AS "countedPromptTokens",
              counted_completion_tokens AS "countedCompletionTokens",
              usage_counted AS "usageCounted"
         FROM rag.queries WHERE actor_pseudonym = $1 ORDER BY created_at, id`,
      [actorPseudonym],
    )) as Omit<QueryRecord, 'tenantId' | 'actorPseudonym'>[];
  }

  async removeByActor(em: EntityManager, actorPseudonym: string): Promise<number> {
    return affectedRows(em, `DELETE FROM rag.queries WHERE actor_pseudonym = $1`, [actorPseudonym]);
  }
}
