import { z } from 'zod';

/** A scheduler queue's name, as jobs are submitted to it (for example `inference-v100`). */
export const SchedulerQueueName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'lowercase letters, digits, dots and inner hyphens');

export const SchedulerQueueDepthQuery = z.object({ queue: SchedulerQueueName }).strict();
export type SchedulerQueueDepthQuery = z.infer<typeof SchedulerQueueDepthQuery>;

/**
 * How much work a scheduler queue holds across every tenant: jobs waiting for a worker, and
 * jobs a worker has taken but not finished. Their sum is the backlog a worker pool scales on,
 * as `num_pending + num_ack_pending` is for a JetStream consumer.
 */
export const SchedulerQueueDepthReply = z.object({
  queue: SchedulerQueueName,
  queued: z.number().int().min(0),
  inFlight: z.number().int().min(0),
  observedAt: z.iso.datetime(),
});
export type SchedulerQueueDepthReply = z.infer<typeof SchedulerQueueDepthReply>;
