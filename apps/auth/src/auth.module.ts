import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { CursorCodec, TenantScope } from '@lattice/database';
import { AuditRecorder, JetStreamPublisher, deriveKey } from '@lattice/messaging';
import { cipherFromConfig, EnvelopeCipher } from '@lattice/secrets';
import {
  Clock,
  HealthRegistry,
  LOGGER,
  MetricsRegistry,
  SystemClock,
} from '@lattice/service-runtime';
import { TenantDirectory } from './access/tenant-directory';
import { ApiKeyRepository } from './api-keys/api-key.repository';
import { ApiKeysHandlers } from './api-keys/api-keys.handlers';
import { ApiKeysService } from './api-keys/api-keys.service';
import type { AuthConfig } from './auth.config';
import { AUTH_SETTINGS, authSettings } from './auth.settings';
import { PasswordHasher } from './passwords/password-hasher';
import { RoleBindingRepository } from './roles/role-binding.repository';
import { RoleCatalog } from './roles/role-catalog';
import { RoleRepository } from './roles/role.repository';
import { RolesHandlers } from './roles/roles.handlers';
import { RolesService } from './roles/roles.service';
import { ServiceAccountRepository } from './service-accounts/service-account.repository';
import { ServiceAccountsHandlers } from './service-accounts/service-accounts.handlers';
import { ServiceAccountsService } from './service-accounts/service-accounts.service';
import { RefreshTokenRepository } from './sessions/refresh-token.repository';
import { SessionsHandlers } from './sessions/sessions.handlers';
import { SessionsService } from './sessions/sessions.service';
import { KeyRotationJob } from './signing-keys/key-rotation.job';
import { SigningKeyRepository } from './signing-keys/signing-key.repository';
import { SigningKeys } from './signing-keys/signing-keys.service';
import { PersonalDataHandlers } from './gdpr/personal-data.handlers';
import { PersonalDataService } from './gdpr/personal-data.service';
import { FIRST_ADMIN, FirstAdminSetup } from './users/first-admin';
import { UserRepository } from './users/user.repository';
import { UsersHandlers } from './users/users.handlers';
import { UsersService } from './users/users.service';

class Lifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AuditRecorder) private readonly audit: AuditRecorder,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.audit.flush(2_000);
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

@Module({})
export class AuthModule {
  static forRoot(
    config: AuthConfig,
    dataSource: DataSource,
    clock: Clock = new SystemClock(),
  ): DynamicModule {
    return {
      module: AuthModule,
      controllers: [
        SessionsHandlers,
        UsersHandlers,
        RolesHandlers,
        ApiKeysHandlers,
        ServiceAccountsHandlers,
        PersonalDataHandlers,
      ],
      providers: [
        { provide: DataSource, useValue: dataSource },
        { provide: TenantScope, useValue: new TenantScope(dataSource) },
        {
          provide: CursorCodec,
          useValue: new CursorCodec(deriveKey(config.LATTICE_INTERNAL_SECRET, 'cursor')),
        },
        { provide: Clock, useValue: clock },
        { provide: AUTH_SETTINGS, useValue: authSettings(config) },
        { provide: EnvelopeCipher, useValue: cipherFromConfig(config) },
        { provide: PasswordHasher, useValue: new PasswordHasher(config.AUTH_SCRYPT_LOG_N) },
        {
          provide: FIRST_ADMIN,
          useValue: { email: config.AUTH_ADMIN_EMAIL, password: config.AUTH_ADMIN_PASSWORD },
        },
        {
          provide: AuditRecorder,
          inject: [JetStreamPublisher, LOGGER, MetricsRegistry],
          useFactory: (publisher: JetStreamPublisher, logger: Logger, metrics: MetricsRegistry) =>
            new AuditRecorder(publisher, { logger, metrics: metrics.registry }),
        },
        {
          provide: 'DATABASE_READINESS',
          inject: [HealthRegistry],
          useFactory: (health: HealthRegistry) =>
            health.register('postgres', async () => {
              await dataSource.query('SELECT 1');
            }),
        },
        Lifecycle,
        RoleCatalog,
        TenantDirectory,
        UserRepository,
        RoleRepository,
        RoleBindingRepository,
        RefreshTokenRepository,
        SigningKeyRepository,
        ServiceAccountRepository,
        ApiKeyRepository,
        SigningKeys,
        KeyRotationJob,
        SessionsService,
        UsersService,
        RolesService,
        ServiceAccountsService,
        ApiKeysService,
        FirstAdminSetup,
        PersonalDataService,
      ],
      exports: [SigningKeys, SessionsService, UsersService, ApiKeysService, AuditRecorder],
    };
  }
}
