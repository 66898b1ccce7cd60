import { Module, type DynamicModule } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { CursorCodec } from '@lattice/database';
import { deriveKey } from '@lattice/secrets';
import { Clock, SystemClock, databaseProviders } from '@lattice/service-runtime';
import { OutboxRepository } from './events/outbox.repository';
import { TenantOutbox } from './events/tenant-outbox';
import { TenantPurgeJob, PURGE_INTERVAL_MS } from './purge/tenant-purge.job';
import { TenantHandlers } from './tenant/tenant.handlers';
import { TenantRepository } from './tenant/tenant.repository';
import { TENANT_SETTINGS, TenantService } from './tenant/tenant.service';
import { UsageConsumer } from './usage/usage.consumer';
import { UsageHandlers } from './usage/usage.handlers';
import { UsageRepository } from './usage/usage.repository';
import { UsageService } from './usage/usage.service';
import type { TenantsConfig } from './tenants.config';

@Module({})
export class TenantsModule {
  static forRoot(
    config: TenantsConfig,
    dataSource: DataSource,
    clock: Clock = new SystemClock(),
  ): DynamicModule {
    return {
      module: TenantsModule,
      controllers: [TenantHandlers, UsageHandlers],
      providers: [
        ...databaseProviders(dataSource),
        {
          provide: CursorCodec,
          useValue: new CursorCodec(deriveKey(config.LATTICE_INTERNAL_SECRET, 'cursor')),
        },
        { provide: Clock, useValue: clock },
        { provide: TENANT_SETTINGS, useValue: { retentionDays: config.TENANT_RETENTION_DAYS } },
        { provide: PURGE_INTERVAL_MS, useValue: config.TENANT_PURGE_INTERVAL_SECONDS * 1000 },
        TenantRepository,
        TenantService,
        OutboxRepository,
        TenantOutbox,
        TenantPurgeJob,
        UsageRepository,
        UsageService,
        UsageConsumer,
      ],
      exports: [TenantService, UsageService, TenantPurgeJob, TenantOutbox],
    };
  }
}
