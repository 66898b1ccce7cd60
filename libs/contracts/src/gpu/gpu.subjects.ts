import { event, subject } from '../subject';
import { GpuLeaseChanged, GpuNodeHeartbeat } from './gpu-agent.schema';
import { GpuMemoryQuery, GpuMemoryReply } from './gpu.schema';

/** Per-GPU VRAM of the GPUs serving a workload, answered by the GPU-node service. */
export const GpuMemoryQuerySubject = subject('gpu.v1.memory.query', GpuMemoryQuery, GpuMemoryReply);

/** Each GPU node's heartbeat, from its agent, every `intervalMs`; a missed one costs nothing. */
export const GpuAgentHeartbeat = event('gpu.v1.agent.heartbeat', GpuNodeHeartbeat);

/** A VRAM lease granted, released, expired or lost; told to whoever listens. */
export const GpuLeaseEvents = event('gpu.v1.lease-events', GpuLeaseChanged);
