import { subject } from '../subject';
import { SchedulerQueueDepthQuery, SchedulerQueueDepthReply } from './scheduler.schema';

/** The depth of one scheduler queue, answered by the scheduler service. */
export const SchedulerQueueDepth = subject(
  'scheduler.v1.queue.depth',
  SchedulerQueueDepthQuery,
  SchedulerQueueDepthReply,
);
