import { z } from 'zod';
import { HealthReply, PageQuery, Uuid, jsonObject, page } from '../common/common.schema';
import { storableJson, storedText, text } from '../common/text.schema';
import { SchedulerQueueName } from './scheduler.schema';

export const JOB_PRIORITIES = ['interactive', 'standard', 'batch'] as const;
export const JobPriority = z.enum(JOB_PRIORITIES);
export type JobPriority = z.infer<typeof JobPriority>;

export const JOB_STATES = [
  'queued',
  'leased',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'dead',
] as const;
export const JobState = z.enum(JOB_STATES);
export type JobState = z.infer<typeof JobState>;

/** States a job leaves no more (a dead job only by an explicit retry). */
export const FINAL_JOB_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled', 'dead'];

/** The most a job's payload or result may weigh, serialised as JSON. */
export const JOB_PAYLOAD_MAX_BYTES = 64 * 1024;

export const JobPayload = jsonObject('payload', { maxDepth: 16, maxBytes: JOB_PAYLOAD_MAX_BYTES });
export const JobResult = jsonObject('result', { maxDepth: 16, maxBytes: JOB_PAYLOAD_MAX_BYTES });

const Text = (max: number) => text({ max, min: 1, trim: true });
/** Free-form JSON as stored, read back. */
const StoredJson = () => storableJson(z.record(storedText(), z.json()));

export const JobType = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$/, 'lowercase letters, digits, dots and inner hyphens');

const LabelKey = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-zA-Z0-9]([-a-zA-Z0-9_./]*[a-zA-Z0-9])?$/, 'a label key like "team" or "app.kind"');
export const JobLabels = z
  .record(LabelKey, text({ max: 200 }))
  .refine((labels) => Object.keys(labels).length <= 20, 'at most 20 labels');

export const IdempotencyKey = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

/** A worker's identity: its pod name where it runs in Kubernetes. */
export const WorkerId = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-zA-Z0-9]([-a-zA-Z0-9_.:]*[a-zA-Z0-9])?$/, 'a pod name or host name');

const Seconds = (max: number) => z.number().int().min(1).max(max);
const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;

// queues

export const CreateQueueRequest = z
  .object({
    name: SchedulerQueueName,
    description: Text(500).optional(),
    /** The worker pool (a Deployment's name) that serves the queue. */
    workerPool: Text(253),
    /** The share of the queue's slots one tenant may hold while others wait; 1 turns it off. */
    maxTenantShare: z.number().gt(0).max(1).default(0.2),
    defaultTimeoutSeconds: Seconds(MAX_TIMEOUT_SECONDS).default(600),
    defaultMaxAttempts: z.number().int().min(1).max(100).default(3),
    /**
     * GPUs one job of the queue holds while it runs (0 for a pool without GPUs): the run time
     * times this is metered as the tenant's GPU-seconds, and held to its plan's cap.
     */
    gpusPerJob: z.number().int().min(0).max(64).default(0),
  })
  .strict();
export type CreateQueueRequest = z.infer<typeof CreateQueueRequest>;

export const QueueNameRequest = z.object({ name: SchedulerQueueName }).strict();

export const QueueFigures = z.object({
  /** Jobs waiting for a worker, ready now or later. */
  queued: z.number().int().min(0),
  /** Jobs a worker holds: leased or running. */
  running: z.number().int().min(0),
  /** How long the oldest job waiting now has waited, in seconds; null when none waits. */
  oldestWaitSeconds: z.number().min(0).nullable(),
});
export type QueueFigures = z.infer<typeof QueueFigures>;

export const QueueView = z.object({
  name: SchedulerQueueName,
  description: storedText().nullable(),
  workerPool: storedText(),
  maxTenantShare: z.number(),
  defaultTimeoutSeconds: z.number().int(),
  defaultMaxAttempts: z.number().int(),
  gpusPerJob: z.number().int(),
  createdAt: z.iso.datetime(),
  /** The caller's own tenant's jobs, or every tenant's for platform operators. */
  figures: QueueFigures,
  /** Whose jobs the figures count. */
  figuresOf: z.enum(['tenant', 'every-tenant']),
});
export type QueueView = z.infer<typeof QueueView>;

export const QueueList = z.object({ items: z.array(QueueView) });
export type QueueList = z.infer<typeof QueueList>;

// jobs

export const SubmitJobRequest = z
  .object({
    queue: SchedulerQueueName,
    type: JobType,
    payload: JobPayload.default({}),
    priority: JobPriority.default('standard'),
    /** Seconds a run may take; the queue's default when absent. */
    timeoutSeconds: Seconds(MAX_TIMEOUT_SECONDS).optional(),
    maxAttempts: z.number().int().min(1).max(100).optional(),
    /** Not to run before this time. */
    notBefore: z.iso.datetime({ offset: true }).optional(),
    /** The same key with the same body returns the job it created; with another body, 422. */
    idempotencyKey: IdempotencyKey.optional(),
    labels: JobLabels.default({}),
    /** The tenant a platform operator submits for; a tenant's callers leave it out. */
    tenantId: Uuid.optional(),
  })
  .strict();
export type SubmitJobRequest = z.infer<typeof SubmitJobRequest>;

/** The largest `done` or `total` a progress report may give. */
export const JOB_PROGRESS_MAX = 1_000_000_000_000;

/**
 * How far a job has come, as its worker reports it: `done` of `total` units (documents, chunks,
 * batches), and optionally the stage it is in and a line for people. `done` may go back (a
 * stage that starts over) but never past `total`.
 */
export const JobProgress = z
  .object({
    done: z.number().int().min(0).max(JOB_PROGRESS_MAX),
    total: z.number().int().min(0).max(JOB_PROGRESS_MAX),
    stage: z
      .string()
      .min(1)
      .max(64)
      .regex(
        /^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$/,
        'lowercase letters, digits, dots and inner hyphens',
      )
      .optional(),
    message: Text(500).optional(),
  })
  .strict()
  .refine((p) => p.done <= p.total, { message: 'done exceeds total', path: ['done'] });
export type JobProgress = z.infer<typeof JobProgress>;

/** A job's progress as last reported, by which attempt and when. */
export const JobProgressView = z.object({
  done: z.number().int(),
  total: z.number().int(),
  stage: storedText().nullable(),
  message: storedText().nullable(),
  /** The attempt that reported it: a retried job shows its last attempt's until the next reports. */
  attempt: z.number().int(),
  reportedAt: z.iso.datetime(),
});
export type JobProgressView = z.infer<typeof JobProgressView>;

export const JobView = z.object({
  id: Uuid,
  tenantId: Uuid,
  queue: SchedulerQueueName,
  type: storedText(),
  payload: StoredJson(),
  priority: JobPriority,
  state: JobState,
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  timeoutSeconds: z.number().int(),
  notBefore: z.iso.datetime(),
  idempotencyKey: storedText().nullable(),
  labels: z.record(storedText(), storedText()),
  leaseOwner: storedText().nullable(),
  leaseExpiresAt: z.iso.datetime().nullable(),
  result: StoredJson().nullable(),
  lastError: storedText().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
  /** What its worker last reported of its progress; null until one does. */
  progress: JobProgressView.nullable(),
});
export type JobView = z.infer<typeof JobView>;

/** The tenant a platform operator acts on; a tenant's callers leave it out. */
export const ActingTenantQuery = z.object({ tenantId: Uuid.optional() }).strict();
export type ActingTenantQuery = z.infer<typeof ActingTenantQuery>;

export const JobIdRequest = z.object({ id: Uuid, tenantId: Uuid.optional() }).strict();
export type JobIdRequest = z.infer<typeof JobIdRequest>;

export const ListJobsQuery = PageQuery.extend({
  tenantId: Uuid.optional(),
  queue: SchedulerQueueName.optional(),
  state: JobState.optional(),
  type: JobType.optional(),
  priority: JobPriority.optional(),
}).strict();
export type ListJobsQuery = z.infer<typeof ListJobsQuery>;

export const ListDeadLettersQuery = PageQuery.extend({
  tenantId: Uuid.optional(),
  queue: SchedulerQueueName.optional(),
}).strict();
export type ListDeadLettersQuery = z.infer<typeof ListDeadLettersQuery>;

export const JobPage = page(JobView);
export type JobPage = z.infer<typeof JobPage>;

// workers

export const RegisterWorkerRequest = z
  .object({
    workerId: WorkerId,
    queue: SchedulerQueueName,
    /** Jobs it runs at once. */
    concurrency: z.number().int().min(1).max(1000),
  })
  .strict();
export type RegisterWorkerRequest = z.infer<typeof RegisterWorkerRequest>;

export const WorkerView = z.object({
  workerId: storedText(),
  queue: SchedulerQueueName,
  concurrency: z.number().int(),
  draining: z.boolean(),
  /** Seconds a lease lasts without a heartbeat. */
  leaseSeconds: z.number().int(),
});
export type WorkerView = z.infer<typeof WorkerView>;

export const LeaseJobsRequest = z
  .object({
    workerId: WorkerId,
    queue: SchedulerQueueName,
    max: z.number().int().min(1).max(100),
  })
  .strict();
export type LeaseJobsRequest = z.infer<typeof LeaseJobsRequest>;

export const LeasedJob = JobView.pick({
  id: true,
  tenantId: true,
  queue: true,
  type: true,
  payload: true,
  priority: true,
  attempts: true,
  maxAttempts: true,
  timeoutSeconds: true,
  leaseExpiresAt: true,
  labels: true,
});
export type LeasedJob = z.infer<typeof LeasedJob>;

export const LeaseJobsReply = z.object({ jobs: z.array(LeasedJob) });
export type LeaseJobsReply = z.infer<typeof LeaseJobsReply>;

export const HeartbeatRequest = z
  .object({ workerId: WorkerId, jobIds: z.array(Uuid).max(1000) })
  .strict();
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

export const HeartbeatReply = z.object({
  /** Leases extended. */
  held: z.array(Uuid),
  /** Jobs the worker must stop: cancelled, or no longer its own (its lease expired). */
  stop: z.array(Uuid),
  leaseExpiresAt: z.iso.datetime(),
  /** Whether the worker should lease no more (it is being drained). */
  draining: z.boolean(),
});
export type HeartbeatReply = z.infer<typeof HeartbeatReply>;

export const WorkerJobRequest = z.object({ workerId: WorkerId, jobId: Uuid }).strict();
export type WorkerJobRequest = z.infer<typeof WorkerJobRequest>;

export const CompleteJobRequest = WorkerJobRequest.extend({
  result: JobResult.optional(),
}).strict();
export type CompleteJobRequest = z.infer<typeof CompleteJobRequest>;

/** Progress of a job the worker holds; only its current holder may report it. */
export const JobProgressRequest = WorkerJobRequest.extend({ progress: JobProgress }).strict();
export type JobProgressRequest = z.infer<typeof JobProgressRequest>;

export const FailJobRequest = WorkerJobRequest.extend({
  error: text({ min: 1, max: 2000, multiline: true }),
  /** A retryable failure goes back to the queue after a back-off; a permanent one fails the job. */
  retryable: z.boolean(),
}).strict();
export type FailJobRequest = z.infer<typeof FailJobRequest>;

/**
 * A job the worker hands back unfinished (it is draining): the job returns to its queue at
 * once, and the attempt does not count, since the job did not fail.
 */
export const ReleaseJobRequest = WorkerJobRequest.extend({
  reason: text({ min: 1, max: 500 }).optional(),
}).strict();
export type ReleaseJobRequest = z.infer<typeof ReleaseJobRequest>;

export const JobStateReply = z.object({ id: Uuid, state: JobState, attempts: z.number().int() });
export type JobStateReply = z.infer<typeof JobStateReply>;

// events

/** One state change of a job, as JOB_EVENTS keeps it. */
export const JobChanged = z.object({
  eventId: Uuid,
  jobId: Uuid,
  tenantId: Uuid,
  queue: SchedulerQueueName,
  type: storedText(),
  from: JobState.nullable(),
  to: JobState,
  attempt: z.number().int().min(0),
  workerId: storedText().nullable(),
  error: storedText().nullable(),
  occurredAt: z.iso.datetime(),
});
export type JobChanged = z.infer<typeof JobChanged>;

/**
 * A held job was cancelled: its worker stops it at once rather than at its next heartbeat
 * (whose reply lists it too, should this be missed).
 */
export const HeldJobCancelled = z.object({ jobId: Uuid, workerId: storedText() });
export type HeldJobCancelled = z.infer<typeof HeldJobCancelled>;

/** Work became ready in a queue: its idle workers lease now rather than at their next poll. */
export const QueueWorkReady = z.object({ queue: SchedulerQueueName });
export type QueueWorkReady = z.infer<typeof QueueWorkReady>;

export const SchedulerHealth = HealthReply;
