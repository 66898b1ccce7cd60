// Generated from the ScalingPolicy CRD schema (apps/operator/src/crd/scaling-policy.crd.ts)
// by `npm run generate:crd`. Do not edit: change the schema and generate again.


/**
 * What to scale, between which bounds, on which metrics, and how fast.
 */
export interface ScalingPolicySpec {
/**
 * The object to scale; it must have the scale subresource (Deployment, StatefulSet, a custom resource).
 */
scaleTargetRef: {
/**
 * API version of the target, for example apps/v1.
 */
apiVersion: string
/**
 * Kind of the target, for example Deployment.
 */
kind: string
/**
 * Name of the target, in the policy's namespace.
 */
name: string
}
/**
 * Fewest replicas. 0 lets the target sleep while every queue metric is at or below its activation threshold (needs a queue metric). Default 1.
 */
minReplicas?: number
/**
 * Most replicas.
 */
maxReplicas: number
/**
 * Seconds between reconciles of this policy. Default 15.
 */
pollingIntervalSeconds?: number
/**
 * While true the operator reads metrics and writes status but never changes the replica count.
 */
paused?: boolean
/**
 * Metrics to scale on; the largest replica count any of them proposes wins.
 * 
 * @minItems 1
 * @maxItems 10
 */
metrics: [MetricSpec, ...(MetricSpec)[]]
/**
 * Scale-up and scale-down rates and stabilisation windows, as in HorizontalPodAutoscaler v2.
 */
behavior?: {
scaleUp?: ScalingRulesSpec
scaleDown?: ScaleDownRulesSpec
}
/**
 * Gates that hold scale-in: while any is true (or its metric cannot be read) the target does not shrink. Example: any GPU above 90 % VRAM.
 * 
 * @maxItems 4
 */
holdScaleDownWhen?: GateSpec[]
/**
 * Replica count to hold when metrics fail for failureThreshold polls in a row.
 */
fallback?: {
/**
 * Failed polls in a row before the fallback applies. Default 3.
 */
failureThreshold?: number
/**
 * Replicas to hold while metrics keep failing (kept within minReplicas and maxReplicas).
 */
replicas: number
}
}
/**
 * One metric the target scales on. Set the member named by `type` and no other.
 */
export interface MetricSpec {
/**
 * Name of the metric, unique within the policy; status, gates and Events refer to it.
 */
name: string
/**
 * Kind of metric: cpu, queue or gpuMemory.
 */
type: ("cpu" | "queue" | "gpuMemory")
/**
 * Average CPU use of the target's pods against their CPU requests, read from metrics.k8s.io (metrics-server) as HorizontalPodAutoscaler does, with its treatment of unready, starting and missing pods.
 */
cpu?: {
/**
 * Target average utilisation, in percent of the pods' CPU requests.
 */
targetUtilization: number
}
/**
 * Backlog of a queue: of a NATS JetStream consumer (num_pending + num_ack_pending, read from the consumer's leader), or of a Lattice scheduler queue (jobs queued + jobs in flight, from the scheduler service). Replicas = ceil(backlog / targetPerReplica).
 */
queue?: {
/**
 * Where the backlog is read: JetStream (default; set stream and consumer) or Scheduler (set name).
 */
source?: ("JetStream" | "Scheduler")
/**
 * The Lattice scheduler queue, when source is Scheduler (for example inference-v100).
 */
name?: string
/**
 * JetStream stream name (the installation's LATTICE_NAMESPACE prefix is added by the operator).
 */
stream?: string
/**
 * Durable consumer name on that stream (prefixed like the stream).
 */
consumer?: string
/**
 * Backlog each replica should carry. Leave unset to read the queue only for gates and status.
 */
targetPerReplica?: number
/**
 * Backlog at or below which the queue asks for no replicas; above it a target at zero replicas wakes. Default 0.
 */
activationThreshold?: number
}
/**
 * VRAM of the GPUs serving the target, from the Lattice GPU-node service over NATS or from Prometheus (DCGM exporter metrics DCGM_FI_DEV_FB_USED / DCGM_FI_DEV_FB_FREE, MiB).
 */
gpuMemory?: {
/**
 * Where to read GPU memory: GpuService (NATS, default) or Prometheus (an endpoint the operator is configured to query).
 */
source?: ("GpuService" | "Prometheus")
/**
 * What is compared with the target: UsedPercent (used / total, percent), UsedMiB, or FreeMiB (falls as load rises, so less free memory means more replicas).
 */
measure: ("UsedPercent" | "UsedMiB" | "FreeMiB")
/**
 * How the GPUs' values combine: Average (default), Max (the fullest GPU) or Min.
 */
aggregation?: ("Average" | "Max" | "Min")
/**
 * Target value in the unit of `measure`. Leave unset to read the metric only for gates and status.
 */
target?: number
/**
 * How to query Prometheus when source is Prometheus; optional.
 */
prometheus?: {
/**
 * Base URL of the Prometheus HTTP API, for example http://prometheus.monitoring:9090. It must be one of the endpoints the operator is configured to query (its OPERATOR_PROMETHEUS_URLS); any other is refused and the metric fails with reason FailedGetGpuMemoryMetric. Default: the operator's first configured endpoint.
 */
url?: string
/**
 * Label matchers for the DCGM series, for example namespace="ml",pod=~"inference-.*". Default: the target's namespace and pods named after it.
 */
selector?: string
}
}
/**
 * Gates: the metric scales the target only while every gate is true; otherwise it is read and shown but ignored. Example: scale on a queue only while VRAM use is above 80 %.
 * 
 * @maxItems 4
 */
activeWhen?: GateSpec[]
}
/**
 * A condition on another metric of this policy, true while that metric was read and its current value is above and/or below the given bounds.
 */
export interface GateSpec {
/**
 * Name of the metric of this policy whose current value is compared.
 */
metric: string
/**
 * True while the metric is strictly above this value (in the metric's own unit: percent for cpu and UsedPercent, messages for queue, MiB for UsedMiB and FreeMiB).
 */
above?: number
/**
 * True while the metric is strictly below this value (same unit as `above`).
 */
below?: number
}
/**
 * How scaling up proceeds, as in HorizontalPodAutoscaler v2 (autoscaling/v2 HPAScalingRules).
 */
export interface ScalingRulesSpec {
/**
 * Seconds of past recommendations considered: scaling up uses the lowest recommendation of the window, so a short spike does not resize the target. Default 0.
 */
stabilizationWindowSeconds?: number
/**
 * Which policy applies when several do: Max (the one allowing the largest change, the default), Min (the smallest change) or Disabled (never scale in this direction).
 */
selectPolicy?: ("Max" | "Min" | "Disabled")
/**
 * Limits on how much the replica count may change up within a period. Default: 4 pods or 100 % per 15 s.
 * 
 * @maxItems 10
 */
policies?: ScalingRulePolicy[]
/**
 * Relative distance of the metric ratio from 1.0 under which no scaling up happens. Default 0.1 (10 %).
 */
tolerance?: number
}
/**
 * One rate limit.
 */
export interface ScalingRulePolicy {
/**
 * Pods: change by at most `value` replicas per period. Percent: by at most `value` percent of the replica count at the start of the period.
 */
type: ("Pods" | "Percent")
/**
 * How many replicas, or what percentage, the policy allows per period.
 */
value: number
/**
 * Length of the window over which the change is counted, in seconds.
 */
periodSeconds: number
}
/**
 * How scaling down proceeds, as in HorizontalPodAutoscaler v2 (autoscaling/v2 HPAScalingRules).
 */
export interface ScaleDownRulesSpec {
/**
 * Seconds of past recommendations considered: scaling down uses the highest recommendation of the window, so a short dip does not resize the target. Default 300.
 */
stabilizationWindowSeconds?: number
/**
 * Which policy applies when several do: Max (the one allowing the largest change, the default), Min (the smallest change) or Disabled (never scale in this direction).
 */
selectPolicy?: ("Max" | "Min" | "Disabled")
/**
 * Limits on how much the replica count may change down within a period. Default: 100 % per 15 s.
 * 
 * @maxItems 10
 */
policies?: ScalingRulePolicy[]
/**
 * Relative distance of the metric ratio from 1.0 under which no scaling down happens. Default 0.1 (10 %).
 */
tolerance?: number
/**
 * Scale-in that drains first, for a Deployment (or ReplicaSet) whose workers serve a Lattice scheduler queue (a queue metric with source Scheduler): before lowering the replicas the operator asks the scheduler which workers hold the least work, has it lease them nothing more, marks their pods with the lowest controller.kubernetes.io/pod-deletion-cost so the ReplicaSet removes exactly those, and waits until they hold no job or this many seconds pass, then scales. 0 scales at once without draining. Default 300.
 */
drainTimeoutSeconds?: number
}

/**
 * What the operator last observed and decided.
 */
export interface ScalingPolicyStatus {
drain?: DrainStatus
/**
 * The spec generation the operator last acted on.
 */
observedGeneration?: number
/**
 * Replicas of the target when last read.
 */
currentReplicas?: number
/**
 * Replicas the operator last decided on.
 */
desiredReplicas?: number
/**
 * When the operator last changed the replica count.
 */
lastScaleTime?: string
/**
 * Polls in a row whose metrics could not be read.
 */
failedPolls?: number
/**
 * The metrics against their targets, one line, for kubectl get.
 */
metricsSummary?: string
/**
 * Each metric as last read.
 */
currentMetrics?: MetricStatus[]
/**
 * Each gate as last evaluated.
 */
gates?: GateStatus[]
/**
 * AbleToScale, ScalingActive and ScalingLimited, as HorizontalPodAutoscaler reports them, and Draining for a scale-in that waits for workers to finish their jobs.
 */
conditions?: StatusCondition[]
}
/**
 * The scale-in under way that waits for workers to drain (see behavior.scaleDown.drainTimeoutSeconds); absent when none is.
 */
export interface DrainStatus {
/**
 * The scheduler queue the drained workers serve.
 */
queue: string
/**
 * Replicas of the target when the drain began.
 */
fromReplicas: number
/**
 * Replicas the target is scaled to once the workers are idle.
 */
toReplicas: number
/**
 * When the drain began.
 */
startedAt: string
/**
 * When the operator scales whatever the workers still hold.
 */
deadline: string
/**
 * The drained workers (their pods) and the jobs each held when last asked.
 * 
 * Items: One drained worker.
 */
workers: {
/**
 * The pod, which is also the worker name.
 */
pod: string
/**
 * Jobs it still held, leased or running.
 */
heldJobs: number
}[]
}
/**
 * One metric as last read.
 */
export interface MetricStatus {
/**
 * Metric name.
 */
name?: string
/**
 * Metric type.
 */
type?: string
/**
 * Current value: utilisation percent for cpu, backlog for queue, the measure for gpuMemory.
 */
value?: number
/**
 * Target value, when the metric has one.
 */
target?: number
/**
 * Replicas this metric alone proposes.
 */
proposal?: number
/**
 * False while an activeWhen gate is shut, so the metric does not scale.
 */
gateOpen?: boolean
/**
 * For queues: whether the backlog is above the activation threshold.
 */
active?: boolean
/**
 * Why the metric could not be read.
 */
error?: string
}
/**
 * One gate.
 */
export interface GateStatus {
/**
 * The metric it gates, or scaleDown for a hold on scale-in.
 */
gates?: string
/**
 * The metric it compares.
 */
metric?: string
/**
 * The comparison, for example "above 80".
 */
condition?: string
/**
 * Whether the comparison is true.
 */
holds?: boolean
/**
 * The compared metric's value.
 */
value?: number
}
/**
 * One condition.
 */
export interface StatusCondition {
/**
 * Condition type.
 */
type: string
/**
 * True, False or Unknown.
 */
status: ("True" | "False" | "Unknown")
/**
 * Machine-readable reason, for example ScaleUpStabilized or FailedGetQueueMetric.
 */
reason?: string
/**
 * Human-readable detail.
 */
message?: string
/**
 * When the status last changed.
 */
lastTransitionTime?: string
}
