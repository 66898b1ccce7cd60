import { z } from 'zod';
import { HealthReply, Uuid } from '../common/common.schema';
import { storedText, text } from '../common/text.schema';

/*
 * The GPU-node service: the registry of GPU nodes and their GPUs, their health, VRAM leases
 * that tenants take on them, and the route to a healthy node serving a model.
 */

const MiB = z.number().int().min(0).max(1_048_576);

/** A node's name: the host name its agent reports (a DNS-1123 subdomain, as Kubernetes' nodes). */
export const GpuNodeName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'lowercase letters, digits, dots and inner hyphens');

const KubeName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a Kubernetes object name');

const LabelKey = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-zA-Z0-9]([-a-zA-Z0-9_./]*[a-zA-Z0-9])?$/, 'a label key like "zone" or "gpu.kind"');

/** Labels of a node that leases may ask for (`zone: eu-1`, `gpu: v100-32gb`). */
export const GpuNodeLabels = z
  .record(LabelKey, text({ max: 200 }))
  .refine((labels) => Object.keys(labels).length <= 32, 'at most 32 labels');

/** A model's name as callers route to it: `llama-3-8b-instruct`, `bge-m3`. */
export const GpuModelName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.:/]*[A-Za-z0-9])?$/, 'a model name like "llama-3-8b"');

/**
 * The Kubernetes workload a model server (or a lease's holder) belongs to: what the operator's
 * `gpuMemory` metric names when it asks for the VRAM of a scaling target.
 */
export const GpuWorkloadRef = z
  .object({
    namespace: KubeName,
    kind: text({ min: 1, max: 100 }).default('Deployment'),
    name: KubeName,
  })
  .strict();
export type GpuWorkloadRef = z.infer<typeof GpuWorkloadRef>;

/** A model a node serves, where to call it, and the workload that serves it. */
export const GpuServedModel = z
  .object({
    model: GpuModelName,
    endpoint: z.url({ protocol: /^https?$/ }).max(2_000),
    workload: GpuWorkloadRef.optional(),
  })
  .strict();
export type GpuServedModel = z.infer<typeof GpuServedModel>;

export const GPU_NODE_STATES = ['healthy', 'degraded', 'unhealthy', 'draining', 'offline'] as const;
export const GpuNodeState = z.enum(GPU_NODE_STATES);
export type GpuNodeState = z.infer<typeof GpuNodeState>;

/** Registers a node by hand, or describes what an agent-registered node serves. */
export const RegisterGpuNodeRequest = z
  .object({
    name: GpuNodeName,
    kubeNode: KubeName.nullable().optional(),
    labels: GpuNodeLabels.default({}),
    serves: z.array(GpuServedModel).max(32).default([]),
  })
  .strict();
export type RegisterGpuNodeRequest = z.infer<typeof RegisterGpuNodeRequest>;

export const GpuNodeIdRequest = z.object({ id: Uuid }).strict();
export type GpuNodeIdRequest = z.infer<typeof GpuNodeIdRequest>;

export const GpuListNodesQuery = z
  .object({ state: GpuNodeState.optional(), model: GpuModelName.optional() })
  .strict();
export type GpuListNodesQuery = z.infer<typeof GpuListNodesQuery>;

/** One GPU as the registry knows it, with its latest reading and its leases. */
export const GpuView = z.object({
  uuid: storedText(100),
  index: z.number().int(),
  model: storedText(100),
  pciBusId: storedText(32).nullable(),
  driverVersion: storedText(64).nullable(),
  totalMiB: MiB,
  reservedMiB: MiB,
  usedMiB: MiB,
  freeMiB: MiB,
  /** VRAM held by active leases, CUDA contexts included. */
  leasedMiB: MiB,
  leaseCount: z.number().int().min(0),
  utilizationPercent: z.number().nullable(),
  temperatureC: z.number().nullable(),
  powerWatts: z.number().nullable(),
  lastXid: z.number().int().nullable(),
  lost: z.boolean(),
  /** Its measured use exceeds what its leases account for: it takes no lease until it settles. */
  unsettled: z.boolean(),
  score: z.number().min(0).max(1),
  sampledAt: z.iso.datetime().nullable(),
});
export type GpuView = z.infer<typeof GpuView>;

export const GpuNodeView = z.object({
  id: Uuid,
  name: storedText(253),
  kubeNode: storedText(253).nullable(),
  labels: z.record(storedText(), storedText()),
  serves: z.array(
    z.object({
      model: storedText(200),
      endpoint: storedText(2_000),
      workload: z
        .object({ namespace: storedText(253), kind: storedText(100), name: storedText(253) })
        .optional(),
    }),
  ),
  state: GpuNodeState,
  score: z.number().min(0).max(1),
  /** Takes no new lease and no new route, but keeps what it holds (an operator's cordon). */
  cordoned: z.boolean(),
  draining: z.boolean(),
  /** Whether calls are routed to it and leases placed on it now. */
  routable: z.boolean(),
  source: storedText(32).nullable(),
  driverVersion: storedText(64).nullable(),
  sourceError: storedText(1_000).nullable(),
  /** Failures callers reported against it in the current window, over the routes it gave. */
  callerErrorRate: z.number().min(0).max(1),
  lastHeartbeatAt: z.iso.datetime().nullable(),
  registeredAt: z.iso.datetime(),
  gpus: z.array(GpuView),
});
export type GpuNodeView = z.infer<typeof GpuNodeView>;

export const GpuNodeList = z.object({ items: z.array(GpuNodeView) });
export type GpuNodeList = z.infer<typeof GpuNodeList>;

/** The fleet at a glance: GPUs, VRAM per model, how many nodes are in each state. */
export const GpuFleetStatus = z.object({
  nodes: z.object({
    total: z.number().int().min(0),
    routable: z.number().int().min(0),
    byState: z.object(
      Object.fromEntries(
        GPU_NODE_STATES.map((state) => [state, z.number().int().min(0)]),
      ) as Record<GpuNodeState, z.ZodNumber>,
    ),
  }),
  gpus: z.object({
    total: z.number().int().min(0),
    lost: z.number().int().min(0),
    unsettled: z.number().int().min(0),
  }),
  vram: z.object({
    totalMiB: z.number().int(),
    usedMiB: z.number().int(),
    freeMiB: z.number().int(),
    leasedMiB: z.number().int(),
  }),
  /** Per GPU model (`Tesla V100-SXM2-32GB`): how many, VRAM used and free, mean utilisation. */
  models: z.array(
    z.object({
      model: storedText(100),
      gpus: z.number().int().min(0),
      totalMiB: z.number().int(),
      usedMiB: z.number().int(),
      freeMiB: z.number().int(),
      leasedMiB: z.number().int(),
      utilizationPercent: z.number().nullable(),
    }),
  ),
  observedAt: z.iso.datetime(),
});
export type GpuFleetStatus = z.infer<typeof GpuFleetStatus>;

export const GPU_LEASE_STATES = ['active', 'released', 'expired', 'lost'] as const;
export const GpuLeaseState = z.enum(GPU_LEASE_STATES);
export type GpuLeaseState = z.infer<typeof GpuLeaseState>;

/** A tenant asks for VRAM: the memory a model needs, where, and for how long between renewals. */
export const CreateGpuLeaseRequest = z
  .object({
    vramMiB: z.number().int().min(1).max(1_048_576),
    /** Only nodes serving this model. */
    model: GpuModelName.optional(),
    /** Only nodes with every one of these labels. */
    nodeLabels: GpuNodeLabels.optional(),
    /** Renew within this many seconds or the lease expires. */
    ttlSeconds: z.number().int().min(5).max(86_400).default(60),
    /** The workload that will use the memory, for the operator's VRAM metric. */
    holder: GpuWorkloadRef.optional(),
    /** The tenant it is for: services and platform operators name it, tenants leave it out. */
    tenantId: Uuid.optional(),
  })
  .strict();
export type CreateGpuLeaseRequest = z.infer<typeof CreateGpuLeaseRequest>;

export const GpuLeaseIdRequest = z.object({ id: Uuid, tenantId: Uuid.optional() }).strict();
export type GpuLeaseIdRequest = z.infer<typeof GpuLeaseIdRequest>;

export const RenewGpuLeaseRequest = z
  .object({
    id: Uuid,
    ttlSeconds: z.number().int().min(5).max(86_400).optional(),
    tenantId: Uuid.optional(),
  })
  .strict();
export type RenewGpuLeaseRequest = z.infer<typeof RenewGpuLeaseRequest>;

export const ListGpuLeasesQuery = z
  .object({ state: GpuLeaseState.optional(), tenantId: Uuid.optional() })
  .strict();
export type ListGpuLeasesQuery = z.infer<typeof ListGpuLeasesQuery>;

export const GpuLeaseView = z.object({
  id: Uuid,
  tenantId: Uuid,
  nodeId: Uuid,
  node: storedText(253),
  gpuUuid: storedText(100),
  vramMiB: MiB,
  /** What the GPU is charged: the memory asked for plus one CUDA context. */
  chargedMiB: MiB,
  model: storedText(200).nullable(),
  state: GpuLeaseState,
  ttlSeconds: z.number().int(),
  expiresAt: z.iso.datetime(),
  createdAt: z.iso.datetime(),
  endedAt: z.iso.datetime().nullable(),
  /** Why it ended when it did not end by release: expiry, or its node failing. */
  endReason: storedText(500).nullable(),
});
export type GpuLeaseView = z.infer<typeof GpuLeaseView>;

export const GpuLeaseList = z.object({ items: z.array(GpuLeaseView) });
export type GpuLeaseList = z.infer<typeof GpuLeaseList>;

/** Where to send a call for a model; `exclude` skips nodes the caller already tried. */
/** A node as callers name it: whatever host name its agent reports. */
const RoutedNodeName = text({ min: 1, max: 253 });

export const GpuRouteRequest = z
  .object({
    model: GpuModelName,
    exclude: z.array(RoutedNodeName).max(64).default([]),
  })
  .strict();
export type GpuRouteRequest = z.infer<typeof GpuRouteRequest>;

export const GpuRouteReply = z.object({
  model: storedText(200),
  nodeId: Uuid,
  node: storedText(253),
  endpoint: storedText(2_000),
});
export type GpuRouteReply = z.infer<typeof GpuRouteReply>;

/** A call routed to `node` failed: count it against the node, and give the next one. */
export const GpuRouteFailureRequest = z
  .object({
    model: GpuModelName,
    node: RoutedNodeName,
    error: text({ max: 500 }).optional(),
    /** Nodes already tried besides `node`. */
    exclude: z.array(RoutedNodeName).max(64).default([]),
  })
  .strict();
export type GpuRouteFailureRequest = z.infer<typeof GpuRouteFailureRequest>;

export const GpuNodesHealth = HealthReply;

/** One service as the gateway found it when asked for the cluster's status. */
export const ServiceStatus = z.object({
  service: storedText(64),
  status: z.enum(['up', 'down']),
  latencyMs: z.number().min(0).nullable(),
  error: storedText(500).nullable(),
});
export type ServiceStatus = z.infer<typeof ServiceStatus>;

/** The platform at a glance: each service's health, and the GPU fleet. */
export const ClusterStatus = z.object({
  services: z.array(ServiceStatus),
  gpu: GpuFleetStatus.nullable(),
  observedAt: z.iso.datetime(),
});
export type ClusterStatus = z.infer<typeof ClusterStatus>;
