import { z } from 'zod';
import { commonConfig, databaseConfig, port, variable, type ConfigOf } from '@lattice/config';

export const schedulerConfigSpec = {
  ...commonConfig,
  ...databaseConfig,
  SCHEDULER_HTTP_PORT: variable(
    port(8084),
    'Port of the scheduler service health and metrics endpoints.',
  ),
  SCHEDULER_LEASE_SECONDS: variable(
    z.coerce.number().int().min(1).max(3_600).default(30),
    'Seconds a worker holds a job without a heartbeat before the job goes back to its queue.',
  ),
  SCHEDULER_LEASE_SWEEP_SECONDS: variable(
    z.coerce.number().int().min(1).max(3_600).default(5),
    'How often the scheduler returns jobs whose leases expired.',
  ),
  SCHEDULER_RETRY_BASE_SECONDS: variable(
    z.coerce.number().min(0).max(3_600).default(5),
    'Back-off before the second attempt of a failed job; it doubles with each attempt, with jitter.',
  ),
  SCHEDULER_RETRY_MAX_SECONDS: variable(
    z.coerce.number().min(0).max(86_400).default(600),
    'The longest back-off between two attempts of a job.',
  ),
  SCHEDULER_PLAN_CACHE_SECONDS: variable(
    z.coerce.number().int().min(0).max(3_600).default(30),
    'How long the scheduler keeps a tenant plan quotas before asking the tenants service again.',
  ),
  SCHEDULER_PLATFORM_QUEUES: variable(
    z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true'),
    'Declare the platform queues (embedding, inference-interactive, inference-batch) at start where they are missing; existing queues are left as they are.',
  ),
};

export type SchedulerConfig = ConfigOf<typeof schedulerConfigSpec>;
