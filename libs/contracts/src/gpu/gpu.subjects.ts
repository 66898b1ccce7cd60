import { subject } from '../subject';
import { GpuMemoryQuery, GpuMemoryReply } from './gpu.schema';

/** Per-GPU VRAM of the GPUs serving a workload, answered by the GPU-node service. */
export const GpuMemoryQuerySubject = subject('gpu.v1.memory.query', GpuMemoryQuery, GpuMemoryReply);
