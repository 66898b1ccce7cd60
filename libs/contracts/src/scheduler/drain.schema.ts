import { z } from 'zod';
import { storedText } from '../common/text.schema';
import { WorkerId } from './job.schema';
import { SchedulerQueueName } from './scheduler.schema';

/** The most workers one drain call names: a worker pool's pods. */
export const DRAIN_MAX_WORKERS = 2000;

const WorkerIds = z.array(WorkerId).max(DRAIN_MAX_WORKERS);

/**
 * Scale-in that drains first. The operator names the pods of a worker pool that may go; the
 * scheduler drains every worker in `drain` and the `pick.count` workers of `pick.from` that
 * hold the least work, and stops leasing to them. A pod that never registered counts as a
 * worker holding nothing, and is refused work should it register while drained.
 */
export const DrainWorkersRequest = z
  .object({
    /** The queue the pool serves. */
    queue: SchedulerQueueName,
    /** Workers to drain whatever they hold (their pods go first whatever their cost). */
    drain: WorkerIds.default([]),
    /** Workers to choose from, and how many of them to drain. */
    pick: z
      .object({ from: WorkerIds, count: z.number().int().min(0).max(DRAIN_MAX_WORKERS) })
      .strict()
      .optional(),
    /**
     * When the drain lapses on its own: a drained worker still heartbeating after this (its
     * pod was not removed after all) leases again.
     */
    expiresAt: z.iso.datetime(),
  })
  .strict()
  .refine((r) => r.drain.length + (r.pick?.count ?? 0) > 0, 'name at least one worker to drain')
  .refine((r) => !r.pick || r.pick.count <= r.pick.from.length, {
    message: 'pick.count exceeds the workers to pick from',
    path: ['pick', 'count'],
  })
  .refine((r) => !r.pick || !r.pick.from.some((id) => r.drain.includes(id)), {
    message: 'a worker is either drained outright or picked from, not both',
    path: ['pick', 'from'],
  });
export type DrainWorkersRequest = z.infer<typeof DrainWorkersRequest>;

export const WorkerIdsRequest = z
  .object({ workers: WorkerIds.min(1) })
  .strict();
export type WorkerIdsRequest = z.infer<typeof WorkerIdsRequest>;

/** Where a worker stands in its drain. */
export const WorkerDrainState = z.object({
  workerId: storedText(),
  /** False for a pod that never registered (it holds nothing). */
  registered: z.boolean(),
  draining: z.boolean(),
  /** Jobs it still holds, leased or running. */
  heldJobs: z.number().int().min(0),
  drainStartedAt: z.iso.datetime().nullable(),
  drainExpiresAt: z.iso.datetime().nullable(),
  lastSeenAt: z.iso.datetime().nullable(),
});
export type WorkerDrainState = z.infer<typeof WorkerDrainState>;

export const WorkerDrainStates = z.object({ workers: z.array(WorkerDrainState) });
export type WorkerDrainStates = z.infer<typeof WorkerDrainStates>;
