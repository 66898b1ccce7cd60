import type { ScalingPolicySpec, ScalingPolicyStatus } from './scaling-policy.generated';

export type {
  DrainStatus,
  ScaleDownRulesSpec,
  GateSpec,
  GateStatus,
  MetricSpec,
  MetricStatus,
  ScalingPolicySpec,
  ScalingPolicyStatus,
  ScalingRulePolicy,
  ScalingRulesSpec,
  StatusCondition,
} from './scaling-policy.generated';

/** A ScalingPolicy as stored in Kubernetes: the object's envelope around the CRD's spec and status. */
export interface ScalingPolicy {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
  };
  spec: ScalingPolicySpec;
  status?: ScalingPolicyStatus;
}
