import type { MigrationInterface, QueryRunner } from 'typeorm';
import { usageOutboxTableSql } from '@lattice/database';

/**
 * Ingest as scheduler jobs: each document remembers the job that ingests it (so deleting the
 * document cancels that job), and the stored bytes go to USAGE through the service's own usage
 * outbox, written in the transaction that stores or deletes the document.
 */
export class RagIngestJobs1768100000000 implements MigrationInterface {
  name = 'RagIngestJobs1768100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE rag.documents ADD COLUMN ingest_job_id uuid`);
    for (const sql of usageOutboxTableSql('rag')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE rag.usage_outbox`);
    await q.query(`ALTER TABLE rag.documents DROP COLUMN ingest_job_id`);
  }
}
