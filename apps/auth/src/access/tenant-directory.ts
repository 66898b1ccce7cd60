import { Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  PLATFORM_TENANT_ID,
  PLATFORM_TENANT_SLUG,
  TenantsGet,
  TenantsGetBySlug,
} from '@lattice/contracts';
import { RpcClient } from '@lattice/messaging';
import { serviceContext } from '@lattice/request-context';

/** What the auth service needs to know of tenants, asked of the tenants service. */
@Injectable()
export class TenantDirectory {
  constructor(private readonly rpc: RpcClient) {}

  /** The id of an active tenant by its slug, or undefined when there is no such tenant. */
  async activeIdBySlug(slug: string): Promise<string | undefined> {
    if (slug === PLATFORM_TENANT_SLUG) return PLATFORM_TENANT_ID;
    try {
      const tenant = await this.rpc.request(TenantsGetBySlug, { slug }, serviceContext('auth'));
      return tenant.status === 'active' ? tenant.id : undefined;
    } catch (error) {
      if (error instanceof DomainError && error.code === ErrorCode.NotFound) return undefined;
      if (error instanceof DomainError && error.code === ErrorCode.ValidationFailed)
        return undefined;
      throw error;
    }
  }

  /** Refuses work in a tenant that does not exist or is not active. */
  async assertActive(tenantId: string): Promise<void> {
    if (tenantId === PLATFORM_TENANT_ID) return;
    const tenant = await this.rpc.request(TenantsGet, { id: tenantId }, serviceContext('auth'));
    if (tenant.status !== 'active')
      throw new DomainError(ErrorCode.InvalidState, `the tenant is ${tenant.status}`);
  }

  /** Whether credentials of this tenant may be used now: it exists and is active. */
  async isActive(tenantId: string): Promise<boolean> {
    if (tenantId === PLATFORM_TENANT_ID) return true;
    try {
      const tenant = await this.rpc.request(TenantsGet, { id: tenantId }, serviceContext('auth'));
      return tenant.status === 'active';
    } catch (error) {
      if (error instanceof DomainError && error.code === ErrorCode.NotFound) return false;
      throw error;
    }
  }
}
