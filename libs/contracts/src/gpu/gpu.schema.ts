import { z } from 'zod';

const KubeName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);

/** Which GPUs to report: those serving one workload (a Deployment, StatefulSet, ...). */
export const GpuMemoryQuery = z
  .object({
    namespace: KubeName,
    workload: KubeName,
    kind: z.string().min(1).max(100).default('Deployment'),
  })
  .strict();
export type GpuMemoryQuery = z.infer<typeof GpuMemoryQuery>;

/** One GPU's frame-buffer memory, in MiB, as DCGM reports it (FB_USED, FB_FREE). */
export const GpuMemorySample = z.object({
  node: z.string().min(1).max(253),
  uuid: z.string().min(1).max(100),
  model: z.string().max(100).optional(),
  usedMiB: z.number().int().min(0),
  freeMiB: z.number().int().min(0),
  sampledAt: z.iso.datetime(),
});
export type GpuMemorySample = z.infer<typeof GpuMemorySample>;

export const GpuMemoryReply = z.object({ gpus: z.array(GpuMemorySample) });
export type GpuMemoryReply = z.infer<typeof GpuMemoryReply>;
