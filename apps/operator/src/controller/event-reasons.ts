/** Reasons of the Events the operator records on a ScalingPolicy; one list, so they stay consistent. */
export const EventReason = {
  SuccessfulRescale: 'SuccessfulRescale',
  FailedRescale: 'FailedRescale',
  FailedGetScale: 'FailedGetScale',
  FailedGetMetrics: 'FailedGetMetrics',
  FallbackActive: 'FallbackActive',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];
