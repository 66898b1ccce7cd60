import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AuthHealthCheck, TenantsHealthCheck } from '@lattice/contracts';
import { RpcClient } from '@lattice/messaging';
import { serviceContext, type RequestContext } from '@lattice/request-context';
import { HealthRegistry } from '@lattice/service-runtime';

const probe = (): RequestContext => serviceContext('gateway-readiness');

/** The gateway is ready when NATS answers and so does each service it routes to. */
@Injectable()
export class DependenciesHealth implements OnModuleInit {
  constructor(
    private readonly health: HealthRegistry,
    private readonly rpc: RpcClient,
  ) {}

  onModuleInit(): void {
    this.health.register('tenants', async () => {
      await this.rpc.request(TenantsHealthCheck, {}, probe(), { timeoutMs: 1_500 });
    });
    this.health.register('auth', async () => {
      await this.rpc.request(AuthHealthCheck, {}, probe(), { timeoutMs: 1_500 });
    });
  }
}
