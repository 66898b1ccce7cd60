import { z } from 'zod';
import { event, stream, streamSubject, subject } from '../subject';
import {
  CompleteJobRequest,
  CreateQueueRequest,
  FailJobRequest,
  HeldJobCancelled,
  HeartbeatReply,
  HeartbeatRequest,
  JobChanged,
  JobIdRequest,
  JobPage,
  JobProgressRequest,
  JobStateReply,
  JobView,
  LeaseJobsReply,
  LeaseJobsRequest,
  ListDeadLettersQuery,
  ListJobsQuery,
  QueueList,
  QueueNameRequest,
  QueueView,
  QueueWorkReady,
  RegisterWorkerRequest,
  ReleaseJobRequest,
  SchedulerHealth,
  SubmitJobRequest,
  WorkerJobRequest,
  WorkerView,
} from './job.schema';

export const SchedulerQueuesCreate = subject(
  'scheduler.v1.queues.create',
  CreateQueueRequest,
  QueueView,
);
export const SchedulerQueuesList = subject(
  'scheduler.v1.queues.list',
  z.object({}).strict(),
  QueueList,
);
export const SchedulerQueuesGet = subject('scheduler.v1.queues.get', QueueNameRequest, QueueView);

export const SchedulerJobsSubmit = subject('scheduler.v1.jobs.submit', SubmitJobRequest, JobView);
export const SchedulerJobsGet = subject('scheduler.v1.jobs.get', JobIdRequest, JobView);
export const SchedulerJobsList = subject('scheduler.v1.jobs.list', ListJobsQuery, JobPage);
export const SchedulerJobsCancel = subject('scheduler.v1.jobs.cancel', JobIdRequest, JobView);
export const SchedulerDeadLettersList = subject(
  'scheduler.v1.dead-letters.list',
  ListDeadLettersQuery,
  JobPage,
);
export const SchedulerDeadLettersRetry = subject(
  'scheduler.v1.dead-letters.retry',
  JobIdRequest,
  JobView,
);

/** Worker-side calls: only services (worker processes) make them. */
export const SchedulerWorkersRegister = subject(
  'scheduler.v1.workers.register',
  RegisterWorkerRequest,
  WorkerView,
);
export const SchedulerJobsLease = subject(
  'scheduler.v1.jobs.lease',
  LeaseJobsRequest,
  LeaseJobsReply,
);
export const SchedulerJobsHeartbeat = subject(
  'scheduler.v1.jobs.heartbeat',
  HeartbeatRequest,
  HeartbeatReply,
);
export const SchedulerJobsStart = subject(
  'scheduler.v1.jobs.start',
  WorkerJobRequest,
  JobStateReply,
);
export const SchedulerJobsComplete = subject(
  'scheduler.v1.jobs.complete',
  CompleteJobRequest,
  JobStateReply,
);
/**
 * How far a held job has come; refused (INVALID_STATE) once the worker holds it no more. A
 * worker sends these often: `libs/worker` keeps one in flight per job, the latest winning.
 */
export const SchedulerJobsProgress = subject(
  'scheduler.v1.jobs.progress',
  JobProgressRequest,
  JobStateReply,
);
export const SchedulerJobsFail = subject('scheduler.v1.jobs.fail', FailJobRequest, JobStateReply);

export const SchedulerJobsRelease = subject(
  'scheduler.v1.jobs.release',
  ReleaseJobRequest,
  JobStateReply,
);

/** Told to the workers (core NATS): a held job was cancelled; its holder stops it. */
export const SchedulerJobCancelled = event('scheduler.v1.workers.job-cancelled', HeldJobCancelled);
/** Told to the workers (core NATS): a queue has work ready; its idle workers lease. */
export const SchedulerWorkReady = event('scheduler.v1.workers.work-ready', QueueWorkReady);

export const SchedulerHealthCheck = subject(
  'scheduler.v1.health',
  z.object({}).strict(),
  SchedulerHealth,
);

/**
 * Every state change of every job, on `scheduler.v1.job-events.<state>`, for other services
 * and webhooks. The scheduler's outbox relays each under its event id, so none is lost or
 * doubled.
 */
export const JobEventsStream = stream('JOB_EVENTS', ['scheduler.v1.job-events.>']);
export const JobEvents = streamSubject(JobEventsStream, 'scheduler.v1.job-events', JobChanged);
