import { Inject, Injectable } from '@nestjs/common';
import { serviceContext } from '@lattice/request-context';
import type { Logger } from 'pino';
import { DomainError, ErrorCode, PLATFORM_TENANT_ID, TenantsGet } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { RpcClient } from '@lattice/messaging';
import { Clock, LOGGER } from '@lattice/service-runtime';
import { ChainService } from '../chain/chain.service';
import { CheckpointRepository } from '../chain/checkpoint.repository';
import { AuditEventRepository } from '../events/audit-event.repository';

export const RETENTION_SETTINGS = Symbol('RETENTION_SETTINGS');
export interface RetentionSettings {
  platformRetentionDays: number;
}

const DAY_MS = 86_400_000;

/**
 * Removes events past their tenant's retention (its plan's `auditRetentionDays`, asked of
 * the tenants service) in whole chain segments: the cut is made at a signed retention
 * checkpoint on the last expired event, which stays behind as the anchor the rest of the
 * chain verifies from.
 */
@Injectable()
export class RetentionService {
  constructor(
    private readonly scope: TenantScope,
    private readonly events: AuditEventRepository,
    private readonly checkpoints: CheckpointRepository,
    private readonly chain: ChainService,
    private readonly rpc: RpcClient,
    private readonly clock: Clock,
    @Inject(RETENTION_SETTINGS) private readonly settings: RetentionSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async retentionDays(tenantId: string): Promise<number | null> {
    if (tenantId === PLATFORM_TENANT_ID) return this.settings.platformRetentionDays;
    try {
      const tenant = await this.rpc.request(TenantsGet, { id: tenantId }, serviceContext('audit'));
      return tenant.quotas.auditRetentionDays;
    } catch (error) {
      // a tenant that is gone keeps its trail: removing it is a decision, not a default
      if (error instanceof DomainError && error.code === ErrorCode.NotFound) return null;
      throw error;
    }
  }

  /** Applies retention to one tenant. Returns how many events were removed. */
  async applyTo(tenantId: string): Promise<number> {
    const days = await this.retentionDays(tenantId);
    if (days === null) return 0;
    const cutoff = new Date(this.clock.now().getTime() - days * DAY_MS);
    const through = await this.scope.run(tenantId, async (em) => {
      const bounds = await this.events.bounds(em, tenantId);
      if (!bounds) return null;
      const firstKept = await this.events.firstSeqSince(em, tenantId, cutoff);
      const last = (firstKept ?? bounds.last + 1) - 1;
      return last >= bounds.first ? last : null;
    });
    if (through === null) return 0;
    // a retention checkpoint, not a periodic one: only it may anchor what is left
    await this.chain.checkpoint(tenantId, through, 'retention');
    const removed = await this.scope.run(tenantId, (em) =>
      this.checkpoints.removeSegment(em, tenantId, through),
    );
    this.logger.info({ tenantId, removed, throughSeq: through, days }, 'audit retention applied');
    return removed;
  }

  async applyAll(): Promise<number> {
    const tenants = await this.scope.runAsPlatform((em) => this.events.tenants(em));
    let removed = 0;
    for (const tenantId of tenants) {
      try {
        removed += await this.applyTo(tenantId);
      } catch (error) {
        this.logger.error({ err: error, tenantId }, 'audit retention failed; will retry');
      }
    }
    return removed;
  }
}
