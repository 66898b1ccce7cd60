/**
 * Every reason the operator writes: on the conditions of a ScalingPolicy's status, and on the
 * Events it records. One plain file, so the pure scaling core and the controller share it.
 */

/** Reasons of the status conditions, the names HorizontalPodAutoscaler uses where it has one. */
export const ConditionReason = {
  // AbleToScale
  SucceededGetScale: 'SucceededGetScale',
  FailedGetScale: 'FailedGetScale',
  ReadyForNewScale: 'ReadyForNewScale',
  ScaleUpStabilized: 'ScaleUpStabilized',
  ScaleDownStabilized: 'ScaleDownStabilized',
  ScaleDownHeld: 'ScaleDownHeld',
  // ScalingActive
  ValidMetricFound: 'ValidMetricFound',
  NoMetricProposing: 'NoMetricProposing',
  ScalingPaused: 'ScalingPaused',
  ScalingDisabled: 'ScalingDisabled',
  FallbackActive: 'FallbackActive',
  FailedGetCpuMetric: 'FailedGetCpuMetric',
  FailedGetQueueMetric: 'FailedGetQueueMetric',
  FailedGetGpuMemoryMetric: 'FailedGetGpuMemoryMetric',
  // ScalingLimited
  DesiredWithinRange: 'DesiredWithinRange',
  ScaleUpLimit: 'ScaleUpLimit',
  ScaleDownLimit: 'ScaleDownLimit',
  TooManyReplicas: 'TooManyReplicas',
  TooFewReplicas: 'TooFewReplicas',
  // Draining
  WaitingForDrain: 'WaitingForDrain',
  DrainCompleted: 'DrainCompleted',
  DrainTimedOut: 'DrainTimedOut',
  DrainAbandoned: 'DrainAbandoned',
  FailedDrain: 'FailedDrain',
} as const;
export type ConditionReason = (typeof ConditionReason)[keyof typeof ConditionReason];

/** Reasons of the Events the operator records on a ScalingPolicy. */
export const EventReason = {
  SuccessfulRescale: 'SuccessfulRescale',
  FailedRescale: 'FailedRescale',
  FailedGetScale: 'FailedGetScale',
  FailedGetMetrics: 'FailedGetMetrics',
  FallbackActive: 'FallbackActive',
  DrainStarted: 'DrainStarted',
  DrainCompleted: 'DrainCompleted',
  DrainTimedOut: 'DrainTimedOut',
  DrainAbandoned: 'DrainAbandoned',
  FailedDrain: 'FailedDrain',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];
