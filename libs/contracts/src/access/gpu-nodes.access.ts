import { AuditEvents, AuditStream } from '../audit/audit-event.schema';
import * as Gpu from '../gpu/gpu.subjects';
import { TenantsQuotaCheck, UsageReports, UsageStream } from '../tenants/tenants.subjects';
import { serviceAccess, rpcContractsOf } from './service-access';

/**
 * The GPU fleet: answers `gpu.v1.*` (registry, health, leases, routing, the operator's VRAM
 * query), hears every agent's heartbeat, tells lease changes, meters lease time to USAGE.
 */
export const gpuNodesAccess = serviceAccess({
  service: 'gpu-nodes',
  handles: rpcContractsOf(Gpu),
  calls: [TenantsQuotaCheck],
  emits: [Gpu.GpuLeaseEvents],
  listens: [Gpu.GpuAgentHeartbeat],
  streams: [AuditStream, UsageStream],
  publishes: [AuditEvents, UsageReports],
});
