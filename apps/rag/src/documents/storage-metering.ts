import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DomainError, ErrorCode, TenantsQuotaCheck } from '@lattice/contracts';
import { RpcClient, UsageOutbox } from '@lattice/messaging';
import { serviceContext } from '@lattice/request-context';
import { Clock } from '@lattice/service-runtime';

/** A document's weight, as storage counts it. */
export interface StoredDocument {
  id: string;
  tenantId: string;
  sizeBytes: number;
}

/**
 * The tenant's storage, held to its plan and metered to USAGE: a document's bytes are counted
 * when it is stored and taken back when it is deleted, each once (the report's id is the
 * document's), in the transaction of that change.
 */
@Injectable()
export class StorageMetering {
  constructor(
    private readonly rpc: RpcClient,
    private readonly outbox: UsageOutbox<EntityManager>,
    private readonly clock: Clock,
  ) {}

  /** Refuses with QUOTA_EXCEEDED when the plan has no room for `bytes` more. */
  async hold(tenantId: string, bytes: number): Promise<void> {
    const quota = await this.rpc.request(
      TenantsQuotaCheck,
      { tenantId, resource: 'storageBytes', amount: bytes },
      serviceContext('rag'),
    );
    if (!quota.allowed)
      throw new DomainError(
        ErrorCode.QuotaExceeded,
        'the plan has no storage left for this document',
        {
          resource: 'storageBytes',
          used: quota.used,
          limit: quota.limit,
          requested: bytes,
        },
      );
  }

  stored(em: EntityManager, doc: StoredDocument): Promise<void> {
    return this.report(em, doc, `rag.document-stored.${doc.id}`, doc.sizeBytes);
  }

  async removed(em: EntityManager, docs: readonly StoredDocument[]): Promise<void> {
    for (const doc of docs)
      await this.report(em, doc, `rag.document-deleted.${doc.id}`, -doc.sizeBytes);
  }

  /** Publishes what committed transactions wrote, now rather than at the next poll. */
  kick(): void {
    void this.outbox.kick();
  }

  private async report(em: EntityManager, doc: StoredDocument, messageId: string, amount: number) {
    if (amount === 0) return;
    await this.outbox.record(em, {
      messageId,
      tenantId: doc.tenantId,
      resource: 'storageBytes',
      amount,
      occurredAt: this.clock.now().toISOString(),
      source: 'rag',
    });
  }
}
