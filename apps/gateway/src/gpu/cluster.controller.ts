import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  AuditHealthCheck,
  AuthHealthCheck,
  ClusterStatus,
  GpuFleetStatusGet,
  GpuNodesHealthCheck,
  SchedulerHealthCheck,
  TenantsHealthCheck,
  type RpcContract,
  type ServiceStatus,
} from '@lattice/contracts';
import { RpcClient } from '@lattice/messaging';
import { serviceContext } from '@lattice/request-context';
import type { z } from 'zod';
import { Route } from '../http/route';

const PROBE_TIMEOUT_MS = 1_500;

/** The services the gateway routes to, each by its health subject. */
const SERVICES: [string, RpcContract<z.ZodType, z.ZodType>][] = [
  ['tenants', TenantsHealthCheck],
  ['auth', AuthHealthCheck],
  ['audit', AuditHealthCheck],
  ['scheduler', SchedulerHealthCheck],
  ['gpu-nodes', GpuNodesHealthCheck],
];

/** The platform at a glance, for platform operators. */
@ApiTags('cluster')
@Controller('v1/cluster')
export class ClusterController {
  constructor(private readonly rpc: RpcClient) {}

  @Get('status')
  @Route({
    summary: "The platform at a glance: each service's health, the GPU nodes and their GPUs",
    permission: { action: 'read', resource: 'Cluster' },
    response: ClusterStatus,
  })
  async status(): Promise<z.output<typeof ClusterStatus>> {
    const [services, gpu] = await Promise.all([
      Promise.all(SERVICES.map(([name, contract]) => this.probe(name, contract))),
      // the fleet is read as the gateway: the caller's permission to read the cluster covers it
      this.rpc
        .request(GpuFleetStatusGet, {}, serviceContext('gateway'), { timeoutMs: PROBE_TIMEOUT_MS })
        .catch(() => null),
    ]);
    return { services, gpu, observedAt: new Date().toISOString() };
  }

  private async probe(
    service: string,
    contract: RpcContract<z.ZodType, z.ZodType>,
  ): Promise<ServiceStatus> {
    const started = performance.now();
    try {
      await this.rpc.request(contract, {}, serviceContext('gateway-cluster-status'), {
        timeoutMs: PROBE_TIMEOUT_MS,
      });
      return {
        service,
        status: 'up',
        latencyMs: Math.round(performance.now() - started),
        error: null,
      };
    } catch (error) {
      return {
        service,
        status: 'down',
        latencyMs: null,
        error: error instanceof Error ? error.message.slice(0, 500) : 'unreachable',
      };
    }
  }
}
