import { dumpYaml } from '@kubernetes/client-node';

/**
 * The ScalingPolicy CRD, the one place its schema is written. `npm run generate:crd` renders
 * it to k8s/crds/, and a unit test fails when that file has drifted from this one.
 */

export const GROUP = 'lattice.dev';
export const VERSION = 'v1alpha1';
export const PLURAL = 'scalingpolicies';
export const KIND = 'ScalingPolicy';

type Schema = Record<string, unknown>;

const int = (description: string, extra: Schema = {}): Schema => ({
  type: 'integer',
  format: 'int32',
  description,
  ...extra,
});
const num = (description: string, extra: Schema = {}): Schema => ({
  type: 'number',
  description,
  ...extra,
});
const str = (description: string, extra: Schema = {}): Schema => ({
  type: 'string',
  description,
  ...extra,
});
const bool = (description: string, extra: Schema = {}): Schema => ({
  type: 'boolean',
  description,
  ...extra,
});
const obj = (
  description: string,
  properties: Record<string, Schema>,
  extra: Schema = {},
): Schema => ({
  type: 'object',
  description,
  properties,
  ...extra,
});
const list = (description: string, items: Schema, extra: Schema = {}): Schema => ({
  type: 'array',
  description,
  items,
  ...extra,
});

const gate = obj(
  'A condition on another metric of this policy, true while that metric was read and its current value is above and/or below the given bounds.',
  {
    metric: str('Name of the metric of this policy whose current value is compared.', {
      maxLength: 63,
    }),
    above: num(
      "True while the metric is strictly above this value (in the metric's own unit: percent for cpu and UsedPercent, messages for queue, MiB for UsedMiB and FreeMiB).",
    ),
    below: num('True while the metric is strictly below this value (same unit as `above`).'),
  },
  {
    required: ['metric'],
    'x-kubernetes-validations': [
      { rule: 'has(self.above) || has(self.below)', message: 'a gate needs above or below' },
    ],
  },
);

const rules = (direction: 'up' | 'down', defaultWindow: number, extra: Record<string, Schema> = {}): Schema =>
  obj(
    `How scaling ${direction} proceeds, as in HorizontalPodAutoscaler v2 (autoscaling/v2 HPAScalingRules).`,
    {
      stabilizationWindowSeconds: int(
        `Seconds of past recommendations considered: scaling ${direction} uses the ${direction === 'up' ? 'lowest' : 'highest'} recommendation of the window, so a short ${direction === 'up' ? 'spike' : 'dip'} does not resize the target. Default ${defaultWindow}.`,
        { minimum: 0, maximum: 3600 },
      ),
      selectPolicy: str(
        'Which policy applies when several do: Max (the one allowing the largest change, the default), Min (the smallest change) or Disabled (never scale in this direction).',
        { enum: ['Max', 'Min', 'Disabled'] },
      ),
      policies: list(
        `Limits on how much the replica count may change ${direction} within a period. Default: ${direction === 'up' ? '4 pods or 100 % per 15 s' : '100 % per 15 s'}.`,
        obj(
          'One rate limit.',
          {
            type: str(
              'Pods: change by at most `value` replicas per period. Percent: by at most `value` percent of the replica count at the start of the period.',
              {
                enum: ['Pods', 'Percent'],
              },
            ),
            value: int('How many replicas, or what percentage, the policy allows per period.', {
              minimum: 1,
            }),
            periodSeconds: int(
              'Length of the window over which the change is counted, in seconds.',
              { minimum: 1, maximum: 1800 },
            ),
          },
          { required: ['type', 'value', 'periodSeconds'] },
        ),
        { maxItems: 10, 'x-kubernetes-list-type': 'atomic' },
      ),
      tolerance: num(
        `Relative distance of the metric ratio from 1.0 under which no scaling ${direction} happens. Default 0.1 (10 %).`,
        { minimum: 0, maximum: 1 },
      ),
      ...extra,
    },
  );

const metric = obj(
  'One metric the target scales on. Set the member named by `type` and no other.',
  {
    name: str(
      'Name of the metric, unique within the policy; status, gates and Events refer to it.',
      {
        pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
        maxLength: 63,
      },
    ),
    type: str('Kind of metric: cpu, queue or gpuMemory.', { enum: ['cpu', 'queue', 'gpuMemory'] }),
    cpu: obj(
      "Average CPU use of the target's pods against their CPU requests, read from metrics.k8s.io (metrics-server) as HorizontalPodAutoscaler does, with its treatment of unready, starting and missing pods.",
      {
        targetUtilization: int(
          "Target average utilisation, in percent of the pods' CPU requests.",
          { minimum: 1, maximum: 1000 },
        ),
      },
      { required: ['targetUtilization'] },
    ),
    queue: obj(
      "Backlog of a queue: of a NATS JetStream consumer (num_pending + num_ack_pending, read from the consumer's leader), or of a Lattice scheduler queue (jobs queued + jobs in flight, from the scheduler service). Replicas = ceil(backlog / targetPerReplica).",
      {
        source: str(
          'Where the backlog is read: JetStream (default; set stream and consumer) or Scheduler (set name).',
          {
            enum: ['JetStream', 'Scheduler'],
          },
        ),
        name: str(
          'The Lattice scheduler queue, when source is Scheduler (for example inference-v100).',
          {
            minLength: 1,
            maxLength: 100,
            pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
          },
        ),
        stream: str(
          "JetStream stream name (the installation's LATTICE_NAMESPACE prefix is added by the operator).",
          { minLength: 1, maxLength: 200 },
        ),
        consumer: str('Durable consumer name on that stream (prefixed like the stream).', {
          minLength: 1,
          maxLength: 200,
        }),
        targetPerReplica: int(
          'Backlog each replica should carry. Leave unset to read the queue only for gates and status.',
          { minimum: 1 },
        ),
        activationThreshold: int(
          'Backlog at or below which the queue asks for no replicas; above it a target at zero replicas wakes. Default 0.',
          {
            minimum: 0,
          },
        ),
      },
      {
        'x-kubernetes-validations': [
          {
            rule: "has(self.source) && self.source == 'Scheduler' ? has(self.name) && !has(self.stream) && !has(self.consumer) : has(self.stream) && has(self.consumer) && !has(self.name)",
            message:
              'a Scheduler queue needs name (and no stream or consumer); a JetStream queue needs stream and consumer (and no name)',
          },
        ],
      },
    ),
    gpuMemory: obj(
      'VRAM of the GPUs serving the target, from the Lattice GPU-node service over NATS or from Prometheus (DCGM exporter metrics DCGM_FI_DEV_FB_USED / DCGM_FI_DEV_FB_FREE, MiB).',
      {
        source: str(
          'Where to read GPU memory: GpuService (NATS, default) or Prometheus (an endpoint the operator is configured to query).',
          {
            enum: ['GpuService', 'Prometheus'],
          },
        ),
        measure: str(
          'What is compared with the target: UsedPercent (used / total, percent), UsedMiB, or FreeMiB (falls as load rises, so less free memory means more replicas).',
          {
            enum: ['UsedPercent', 'UsedMiB', 'FreeMiB'],
          },
        ),
        aggregation: str(
          "How the GPUs' values combine: Average (default), Max (the fullest GPU) or Min.",
          { enum: ['Average', 'Max', 'Min'] },
        ),
        target: int(
          'Target value in the unit of `measure`. Leave unset to read the metric only for gates and status.',
          { minimum: 0 },
        ),
        prometheus: obj('How to query Prometheus when source is Prometheus; optional.', {
          url: str(
            "Base URL of the Prometheus HTTP API, for example http://prometheus.monitoring:9090. It must be one of the endpoints the operator is configured to query (its OPERATOR_PROMETHEUS_URLS); any other is refused and the metric fails with reason FailedGetGpuMemoryMetric. Default: the operator's first configured endpoint.",
            { pattern: '^https?://' },
          ),
          selector: str(
            'Label matchers for the DCGM series, for example namespace="ml",pod=~"inference-.*". Default: the target\'s namespace and pods named after it.',
          ),
        }),
      },
      {
        required: ['measure'],
        'x-kubernetes-validations': [
          {
            rule: "!has(self.target) || self.measure != 'UsedPercent' || self.target <= 100",
            message: 'a UsedPercent target is at most 100',
          },
        ],
      },
    ),
    activeWhen: list(
      'Gates: the metric scales the target only while every gate is true; otherwise it is read and shown but ignored. Example: scale on a queue only while VRAM use is above 80 %.',
      gate,
      {
        maxItems: 4,
        'x-kubernetes-list-type': 'atomic',
      },
    ),
  },
  {
    required: ['name', 'type'],
    'x-kubernetes-validations': [
      {
        rule: "has(self.cpu) == (self.type == 'cpu')",
        message: 'set cpu exactly when type is cpu',
      },
      {
        rule: "has(self.queue) == (self.type == 'queue')",
        message: 'set queue exactly when type is queue',
      },
      {
        rule: "has(self.gpuMemory) == (self.type == 'gpuMemory')",
        message: 'set gpuMemory exactly when type is gpuMemory',
      },
    ],
  },
);

const spec = obj(
  'What to scale, between which bounds, on which metrics, and how fast.',
  {
    scaleTargetRef: obj(
      'The object to scale; it must have the scale subresource (Deployment, StatefulSet, a custom resource).',
      {
        apiVersion: str('API version of the target, for example apps/v1.'),
        kind: str('Kind of the target, for example Deployment.'),
        name: str("Name of the target, in the policy's namespace."),
      },
      { required: ['apiVersion', 'kind', 'name'] },
    ),
    minReplicas: int(
      'Fewest replicas. 0 lets the target sleep while every queue metric is at or below its activation threshold (needs a queue metric). Default 1.',
      {
        minimum: 0,
        default: 1,
      },
    ),
    maxReplicas: int('Most replicas.', { minimum: 1 }),
    pollingIntervalSeconds: int('Seconds between reconciles of this policy. Default 15.', {
      minimum: 1,
      maximum: 3600,
      default: 15,
    }),
    paused: bool(
      'While true the operator reads metrics and writes status but never changes the replica count.',
      { default: false },
    ),
    metrics: list(
      'Metrics to scale on; the largest replica count any of them proposes wins.',
      metric,
      {
        minItems: 1,
        maxItems: 10,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      },
    ),
    behavior: obj(
      'Scale-up and scale-down rates and stabilisation windows, as in HorizontalPodAutoscaler v2.',
      {
        scaleUp: rules('up', 0),
        scaleDown: rules('down', 300, {
          drainTimeoutSeconds: int(
            "Scale-in that drains first, for a Deployment (or ReplicaSet) whose workers serve a Lattice scheduler queue (a queue metric with source Scheduler): before lowering the replicas the operator asks the scheduler which workers hold the least work, has it lease them nothing more, marks their pods with the lowest controller.kubernetes.io/pod-deletion-cost so the ReplicaSet removes exactly those, and waits until they hold no job or this many seconds pass, then scales. 0 scales at once without draining. Default 300.",
            { minimum: 0, maximum: 86400 },
          ),
        }),
      },
    ),
    holdScaleDownWhen: list(
      'Gates that hold scale-in: while any is true (or its metric cannot be read) the target does not shrink. Example: any GPU above 90 % VRAM.',
      gate,
      {
        maxItems: 4,
        'x-kubernetes-list-type': 'atomic',
      },
    ),
    fallback: obj(
      'Replica count to hold when metrics fail for failureThreshold polls in a row.',
      {
        failureThreshold: int('Failed polls in a row before the fallback applies. Default 3.', {
          minimum: 1,
          default: 3,
        }),
        replicas: int(
          'Replicas to hold while metrics keep failing (kept within minReplicas and maxReplicas).',
          { minimum: 0 },
        ),
      },
      { required: ['replicas'] },
    ),
  },
  {
    required: ['scaleTargetRef', 'maxReplicas', 'metrics'],
    'x-kubernetes-validations': [
      {
        rule: 'self.minReplicas <= self.maxReplicas',
        message: 'minReplicas must not exceed maxReplicas',
      },
      {
        rule: "self.minReplicas > 0 || self.metrics.exists(m, m.type == 'queue')",
        message: 'minReplicas 0 needs a queue metric to wake the target',
      },
      {
        rule: 'self.metrics.all(m, !has(m.activeWhen) || m.activeWhen.all(g, g.metric != m.name && self.metrics.exists(o, o.name == g.metric)))',
        message: 'activeWhen must name another metric of this policy',
      },
      {
        rule: '!has(self.holdScaleDownWhen) || self.holdScaleDownWhen.all(g, self.metrics.exists(o, o.name == g.metric))',
        message: 'holdScaleDownWhen must name a metric of this policy',
      },
    ],
  },
);

const status = obj('What the operator last observed and decided.', {
  drain: obj(
    'The scale-in under way that waits for workers to drain (see behavior.scaleDown.drainTimeoutSeconds); absent when none is.',
    {
      queue: str('The scheduler queue the drained workers serve.'),
      fromReplicas: int('Replicas of the target when the drain began.'),
      toReplicas: int('Replicas the target is scaled to once the workers are idle.'),
      startedAt: str('When the drain began.', { format: 'date-time' }),
      deadline: str('When the operator scales whatever the workers still hold.', {
        format: 'date-time',
      }),
      workers: list(
        'The drained workers (their pods) and the jobs each held when last asked.',
        obj(
          'One drained worker.',
          {
            pod: str('The pod, which is also the worker name.'),
            heldJobs: int('Jobs it still held, leased or running.'),
          },
          { required: ['pod', 'heldJobs'] },
        ),
        { 'x-kubernetes-list-type': 'atomic' },
      ),
    },
    { required: ['queue', 'fromReplicas', 'toReplicas', 'startedAt', 'deadline', 'workers'] },
  ),
  observedGeneration: int('The spec generation the operator last acted on.', { format: 'int64' }),
  currentReplicas: int('Replicas of the target when last read.'),
  desiredReplicas: int('Replicas the operator last decided on.'),
  lastScaleTime: str('When the operator last changed the replica count.', { format: 'date-time' }),
  failedPolls: int('Polls in a row whose metrics could not be read.'),
  metricsSummary: str('The metrics against their targets, one line, for kubectl get.'),
  currentMetrics: list(
    'Each metric as last read.',
    obj('One metric as last read.', {
      name: str('Metric name.'),
      type: str('Metric type.'),
      value: num(
        'Current value: utilisation percent for cpu, backlog for queue, the measure for gpuMemory.',
      ),
      target: num('Target value, when the metric has one.'),
      proposal: int('Replicas this metric alone proposes.'),
      gateOpen: bool('False while an activeWhen gate is shut, so the metric does not scale.'),
      active: bool('For queues: whether the backlog is above the activation threshold.'),
      error: str('Why the metric could not be read.'),
    }),
    { 'x-kubernetes-list-type': 'atomic' },
  ),
  gates: list(
    'Each gate as last evaluated.',
    obj('One gate.', {
      gates: str('The metric it gates, or scaleDown for a hold on scale-in.'),
      metric: str('The metric it compares.'),
      condition: str('The comparison, for example "above 80".'),
      holds: bool('Whether the comparison is true.'),
      value: num("The compared metric's value."),
    }),
    { 'x-kubernetes-list-type': 'atomic' },
  ),
  conditions: list(
    'AbleToScale, ScalingActive and ScalingLimited, as HorizontalPodAutoscaler reports them, and Draining for a scale-in that waits for workers to finish their jobs.',
    obj(
      'One condition.',
      {
        type: str('Condition type.'),
        status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
        reason: str(
          'Machine-readable reason, for example ScaleUpStabilized or FailedGetQueueMetric.',
        ),
        message: str('Human-readable detail.'),
        lastTransitionTime: str('When the status last changed.', { format: 'date-time' }),
      },
      { required: ['type', 'status'] },
    ),
    { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
  ),
});

export const scalingPolicyCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${PLURAL}.${GROUP}`, labels: { 'app.kubernetes.io/part-of': 'lattice' } },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: {
      kind: KIND,
      listKind: `${KIND}List`,
      plural: PLURAL,
      singular: 'scalingpolicy',
      shortNames: ['sp'],
      categories: ['lattice'],
    },
    versions: [
      {
        name: VERSION,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          {
            name: 'Target',
            type: 'string',
            jsonPath: '.spec.scaleTargetRef.name',
            description: 'The scaled object.',
          },
          {
            name: 'Min',
            type: 'integer',
            jsonPath: '.spec.minReplicas',
            description: 'Fewest replicas.',
          },
          {
            name: 'Max',
            type: 'integer',
            jsonPath: '.spec.maxReplicas',
            description: 'Most replicas.',
          },
          {
            name: 'Current',
            type: 'integer',
            jsonPath: '.status.currentReplicas',
            description: 'Replicas now.',
          },
          {
            name: 'Desired',
            type: 'integer',
            jsonPath: '.status.desiredReplicas',
            description: 'Replicas decided.',
          },
          {
            name: 'Metrics',
            type: 'string',
            jsonPath: '.status.metricsSummary',
            description: 'Metrics against their targets.',
          },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
        schema: {
          openAPIV3Schema: obj(
            'ScalingPolicy scales a workload on CPU, queue backlog and GPU memory, with HorizontalPodAutoscaler v2 behaviour, gates between metrics, and a fallback when metrics fail.',
            {
              apiVersion: str(
                'APIVersion defines the versioned schema of this representation of an object.',
              ),
              kind: str(
                'Kind is a string value representing the REST resource this object represents.',
              ),
              metadata: { type: 'object' },
              spec,
              status,
            },
            { required: ['spec'] },
          ),
        },
      },
    ],
  },
};

export function renderCrd(): string {
  // dumpYaml passes objects that name their kind through the client's typed models, which
  // drop schema keywords such as `default`; dumping the body alone keeps them
  const { apiVersion, kind, ...body } = scalingPolicyCrd;
  return [
    '# Generated from apps/operator/src/crd/scaling-policy.crd.ts by `npm run generate:crd`; do not edit.',
    `apiVersion: ${apiVersion}`,
    `kind: ${kind}`,
    dumpYaml(body, { noRefs: true }),
  ].join('\n');
}
