import { z } from 'zod';
import { storedText, text } from '../common/text.schema';

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
    kind: text({ min: 1, max: 100 }).default('Deployment'),
  })
  .strict();
export type GpuMemoryQuery = z.infer<typeof GpuMemoryQuery>;

/** One GPU's frame-buffer memory, in MiB, as DCGM reports it (FB_USED, FB_FREE). */
export const GpuMemorySample = z.object({
  node: storedText(253).min(1),
  uuid: storedText(100).min(1),
  model: storedText(100).optional(),
  usedMiB: z.number().int().min(0),
  freeMiB: z.number().int().min(0),
  sampledAt: z.iso.datetime(),
});
export type GpuMemorySample = z.infer<typeof GpuMemorySample>;

export const GpuMemoryReply = z.object({ gpus: z.array(GpuMemorySample) });
export type GpuMemoryReply = z.infer<typeof GpuMemoryReply>;
