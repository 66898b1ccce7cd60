import { z } from 'zod';
import { storedText } from '../common/text.schema';

/*
 * What a GPU node's agent reports: one reading per GPU, read from the DCGM exporter or from
 * nvidia-smi, carried in a heartbeat at a steady interval. The first heartbeat of a node
 * registers it and its GPUs with the GPU-node service; later ones refresh its health.
 */

/** Where the agent read its figures. */
export const GpuReadingSource = z.enum(['dcgm-exporter', 'nvidia-smi']);
export type GpuReadingSource = z.infer<typeof GpuReadingSource>;

const MiB = z.number().int().min(0).max(1_048_576);
const figure = (min: number, max: number) => z.number().min(min).max(max).nullable();

/** One GPU as the agent last read it. A figure the source did not give is null. */
export const GpuReading = z
  .object({
    uuid: storedText(100).min(1),
    index: z.number().int().min(0).max(63),
    model: storedText(100),
    pciBusId: storedText(32).nullable(),
    /** Frame buffer in MiB: total = used + free + reserved (DCGM_FI_DEV_FB_*). */
    totalMiB: MiB,
    usedMiB: MiB,
    freeMiB: MiB,
    reservedMiB: MiB,
    utilizationPercent: figure(0, 100),
    temperatureC: figure(-50, 200),
    /** The temperature at which the GPU starts to slow itself down, where the source says. */
    slowdownTemperatureC: figure(0, 200),
    powerWatts: figure(0, 5_000),
    /** The last XID error code (DCGM_FI_DEV_XID_ERRORS); 0 or null when none. */
    lastXid: z.number().int().min(0).max(1_000_000).nullable(),
    /** Uncorrectable (double-bit) ECC errors since the driver loaded. */
    eccUncorrectable: z.number().int().min(0).nullable(),
    /** Rows remapped after uncorrectable errors, and whether a remap has failed. */
    remappedRowsUncorrectable: z.number().int().min(0).nullable(),
    rowRemapFailed: z.boolean().nullable(),
    /** The GPU fell off the bus or the driver lost it: its figures are not to be trusted. */
    lost: z.boolean(),
  })
  .strict();
export type GpuReading = z.infer<typeof GpuReading>;

/** A node's heartbeat: who it is and what each of its GPUs reads now. */
export const GpuNodeHeartbeat = z
  .object({
    /** The host name as the exporter or the node reports it; the registry's key. */
    node: storedText(253).min(1),
    /** The Kubernetes node the agent runs on (the downward API's spec.nodeName), if any. */
    kubeNode: storedText(253).nullable(),
    source: GpuReadingSource,
    driverVersion: storedText(64).nullable(),
    sampledAt: z.iso.datetime(),
    /** How often the agent beats, so the service can tell a late heartbeat from a lost node. */
    intervalMs: z.number().int().min(100).max(3_600_000),
    gpus: z.array(GpuReading).max(64),
    /** Why the source could not be read this time (exporter down, nvidia-smi failed). */
    sourceError: storedText(1_000).nullable(),
  })
  .strict();
export type GpuNodeHeartbeat = z.infer<typeof GpuNodeHeartbeat>;

/** A VRAM lease changed; the simulated node pool moves its memory by these. */
export const GpuLeaseChanged = z
  .object({
    leaseId: z.uuid(),
    tenantId: z.uuid(),
    node: storedText(253).min(1),
    gpuUuid: storedText(100).min(1),
    vramMiB: MiB,
    state: z.enum(['granted', 'released', 'expired', 'lost']),
    at: z.iso.datetime(),
  })
  .strict();
export type GpuLeaseChanged = z.infer<typeof GpuLeaseChanged>;
