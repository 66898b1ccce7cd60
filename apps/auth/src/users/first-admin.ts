import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { PLATFORM_ADMIN_ROLE, PLATFORM_TENANT_ID } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { LOGGER } from '@lattice/service-runtime';
import { PasswordHasher } from '../passwords/password-hasher';
import { RoleBindingRepository } from '../roles/role-binding.repository';
import { UserRepository } from './user.repository';

export const FIRST_ADMIN = Symbol('FIRST_ADMIN');
export interface FirstAdmin {
  email?: string;
  password?: string;
}

/** On an installation with no platform user yet, creates the first platform admin. */
@Injectable()
export class FirstAdminSetup implements OnApplicationBootstrap {
  constructor(
    private readonly scope: TenantScope,
    private readonly users: UserRepository,
    private readonly bindings: RoleBindingRepository,
    private readonly hasher: PasswordHasher,
    @Inject(FIRST_ADMIN) private readonly admin: FirstAdmin,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { email, password } = this.admin;
    if (!email || !password) return;
    const passwordHash = await this.hasher.hash(password);
    await this.scope.run(PLATFORM_TENANT_ID, async (em) => {
      // one replica creates it; the others wait here and then find it
      await this.users.lockFirstAdminSetup(em);
      if ((await this.users.count(em)) > 0) return;
      const user = await this.users.insert(em, {
        tenantId: PLATFORM_TENANT_ID,
        email: email.toLowerCase(),
        displayName: 'Platform admin',
        passwordHash,
      });
      await this.bindings.bind(em, {
        tenantId: PLATFORM_TENANT_ID,
        principalId: user!.id,
        role: PLATFORM_ADMIN_ROLE,
        grantedBy: 'setup',
      });
      this.logger.info({ email }, 'created the first platform admin');
    });
  }
}
