import { Module, type DynamicModule } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { CursorCodec } from '@lattice/database';
import { cipherFromConfig, EnvelopeCipher, deriveKey } from '@lattice/secrets';
import { Clock, SystemClock, databaseProviders } from '@lattice/service-runtime';
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
        ...databaseProviders(dataSource),
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
      exports: [SigningKeys, SessionsService, UsersService, ApiKeysService],
    };
  }
}
