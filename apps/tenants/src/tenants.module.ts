import { Module, type DynamicModule, type OnApplicationShutdown, Inject } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CursorCodec, TenantScope } from '@lattice/database';
import { deriveKey } from '@lattice/messaging';
import { Clock, HealthRegistry, SystemClock } from '@lattice/service-runtime';
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

class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

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
        { provide: DataSource, useValue: dataSource },
        { provide: TenantScope, useValue: new TenantScope(dataSource) },
        {
          provide: CursorCodec,
          useValue: new CursorCodec(deriveKey(config.LATTICE_INTERNAL_SECRET, 'cursor')),
        },
        { provide: Clock, useValue: clock },
        { provide: TENANT_SETTINGS, useValue: { retentionDays: config.TENANT_RETENTION_DAYS } },
        { provide: PURGE_INTERVAL_MS, useValue: config.TENANT_PURGE_INTERVAL_SECONDS * 1000 },
        {
          provide: 'DATABASE_READINESS',
          inject: [HealthRegistry],
          useFactory: (health: HealthRegistry) =>
            health.register('postgres', async () => {
              await dataSource.query('SELECT 1');
            }),
        },
        DatabaseLifecycle,
        TenantRepository,
        TenantService,
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
