import type { GpuAggregation, GpuMeasure, MetricType, Gate } from '../scaling/autoscaler';
import type { PolicyType, SelectPolicy } from '../scaling/behavior';

/** A ScalingPolicy as stored in Kubernetes; mirrors k8s/crds (the schema is the authority). */
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

export interface ScalingRulesSpec {
  stabilizationWindowSeconds?: number;
  selectPolicy?: SelectPolicy;
  policies?: { type: PolicyType; value: number; periodSeconds: number }[];
  tolerance?: number;
}

export interface MetricSpec {
  name: string;
  type: MetricType;
  cpu?: { targetUtilization: number };
  queue?: {
    /** JetStream (a stream's durable consumer) unless set; Scheduler reads a scheduler queue. */
    source?: 'JetStream' | 'Scheduler';
    stream?: string;
    consumer?: string;
    /** The scheduler queue, when the source is Scheduler. */
    name?: string;
    targetPerReplica?: number;
    activationThreshold?: number;
  };
  gpuMemory?: {
    source?: 'GpuService' | 'Prometheus';
    measure: GpuMeasure;
    aggregation?: GpuAggregation;
    target?: number;
    prometheus?: { url?: string; selector?: string };
  };
  activeWhen?: Gate[];
}

export interface ScalingPolicySpec {
  scaleTargetRef: { apiVersion: string; kind: string; name: string };
  minReplicas?: number;
  maxReplicas: number;
  pollingIntervalSeconds?: number;
  paused?: boolean;
  metrics: MetricSpec[];
  behavior?: { scaleUp?: ScalingRulesSpec; scaleDown?: ScalingRulesSpec };
  holdScaleDownWhen?: Gate[];
  fallback?: { failureThreshold?: number; replicas: number };
}

export interface StatusCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface ScalingPolicyStatus {
  observedGeneration?: number;
  currentReplicas?: number;
  desiredReplicas?: number;
  lastScaleTime?: string;
  failedPolls?: number;
  metricsSummary?: string;
  currentMetrics?: {
    name: string;
    type: string;
    value?: number;
    target?: number;
    proposal?: number;
    gateOpen?: boolean;
    active?: boolean;
    error?: string;
  }[];
  gates?: { gates: string; metric: string; condition: string; holds: boolean; value?: number }[];
  conditions?: StatusCondition[];
}
