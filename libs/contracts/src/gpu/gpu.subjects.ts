import { z } from 'zod';
import { event, subject } from '../subject';
import { GpuLeaseChanged, GpuNodeHeartbeat } from './gpu-agent.schema';
import {
  CreateGpuLeaseRequest,
  GpuFleetStatus,
  GpuLeaseIdRequest,
  GpuLeaseList,
  GpuLeaseView,
  GpuListNodesQuery,
  GpuNodeIdRequest,
  GpuNodeList,
  GpuNodeView,
  GpuNodesHealth,
  GpuRouteFailureRequest,
  GpuRouteReply,
  GpuRouteRequest,
  ListGpuLeasesQuery,
  RegisterGpuNodeRequest,
  RenewGpuLeaseRequest,
} from './gpu-nodes.schema';
import { GpuMemoryQuery, GpuMemoryReply } from './gpu.schema';

/** Per-GPU VRAM of the GPUs serving a workload, answered by the GPU-node service. */
export const GpuMemoryQuerySubject = subject('gpu.v1.memory.query', GpuMemoryQuery, GpuMemoryReply);

/** Each GPU node's heartbeat, from its agent, every `intervalMs`; a missed one costs nothing. */
export const GpuAgentHeartbeat = event('gpu.v1.agent.heartbeat', GpuNodeHeartbeat);

/** A VRAM lease granted, released, expired or lost; told to whoever listens. */
export const GpuLeaseEvents = event('gpu.v1.lease-events', GpuLeaseChanged);

/** The registry (platform operators; agents register by heartbeat). */
export const GpuNodesRegister = subject(
  'gpu.v1.nodes.register',
  RegisterGpuNodeRequest,
  GpuNodeView,
);
export const GpuNodesList = subject('gpu.v1.nodes.list', GpuListNodesQuery, GpuNodeList);
export const GpuNodesGet = subject('gpu.v1.nodes.get', GpuNodeIdRequest, GpuNodeView);
/** Takes the node out of routing and placement and lets its leases run out. */
export const GpuNodesDrain = subject('gpu.v1.nodes.drain', GpuNodeIdRequest, GpuNodeView);
/** Takes no new lease or route; what it holds stays. */
export const GpuNodesCordon = subject('gpu.v1.nodes.cordon', GpuNodeIdRequest, GpuNodeView);
/** Undoes a drain or a cordon. */
export const GpuNodesUncordon = subject('gpu.v1.nodes.uncordon', GpuNodeIdRequest, GpuNodeView);
export const GpuFleetStatusGet = subject('gpu.v1.status', z.object({}).strict(), GpuFleetStatus);

/** VRAM leases, each its tenant's own. */
export const GpuLeasesCreate = subject('gpu.v1.leases.create', CreateGpuLeaseRequest, GpuLeaseView);
export const GpuLeasesRenew = subject('gpu.v1.leases.renew', RenewGpuLeaseRequest, GpuLeaseView);
export const GpuLeasesRelease = subject('gpu.v1.leases.release', GpuLeaseIdRequest, GpuLeaseView);
export const GpuLeasesGet = subject('gpu.v1.leases.get', GpuLeaseIdRequest, GpuLeaseView);
export const GpuLeasesList = subject('gpu.v1.leases.list', ListGpuLeasesQuery, GpuLeaseList);

/** Inference callers: a healthy node serving a model, and the next one after a failure. */
export const GpuRoute = subject('gpu.v1.route', GpuRouteRequest, GpuRouteReply);
export const GpuRouteReportFailure = subject(
  'gpu.v1.route.report-failure',
  GpuRouteFailureRequest,
  GpuRouteReply,
);

export const GpuNodesHealthCheck = subject('gpu.v1.health', z.object({}).strict(), GpuNodesHealth);
