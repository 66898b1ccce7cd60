import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { GpuReading } from '@lattice/contracts';
import { GpuSourceError, type GpuSnapshot } from './gpu-source';

/**
 * Reads the NVIDIA DCGM exporter's Prometheus text (its `/metrics`, port 9400 by default) into
 * one reading per GPU. The exporter writes one series per field and GPU, labelled `gpu` (the
 * index), `UUID`, `pci_bus_id` (since 2.x), `device`, `modelName`, the host as `Hostname` (up to
 * 4.x) or `hostname` (after), and `DCGM_FI_DRIVER_VERSION` where that field is configured as a
 * label; with pod mapping on, a GPU's series repeat with `container`/`namespace`/`pod`, and
 * under MIG once per instance (`GPU_I_ID`): the device's own series is taken.
 *
 * A GPU that fell off the bus keeps its last XID (79) while DCGM returns blanks for its other
 * fields, which the exporter leaves out: a GPU with XID 79, or with no frame-buffer figures at
 * all, is reported lost.
 */

const FIELDS = {
  used: 'DCGM_FI_DEV_FB_USED',
  free: 'DCGM_FI_DEV_FB_FREE',
  reserved: 'DCGM_FI_DEV_FB_RESERVED',
  total: 'DCGM_FI_DEV_FB_TOTAL',
  util: 'DCGM_FI_DEV_GPU_UTIL',
  temp: 'DCGM_FI_DEV_GPU_TEMP',
  slowdownTemp: 'DCGM_FI_DEV_SLOWDOWN_TEMP',
  power: 'DCGM_FI_DEV_POWER_USAGE',
  xid: 'DCGM_FI_DEV_XID_ERRORS',
  eccDbe: 'DCGM_FI_DEV_ECC_DBE_VOL_TOTAL',
  remappedRows: 'DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS',
  remapFailure: 'DCGM_FI_DEV_ROW_REMAP_FAILURE',
} as const;
type Field = keyof typeof FIELDS;
const FIELD_OF = new Map<string, Field>(
  Object.entries(FIELDS).map(([field, name]) => [name, field as Field]),
);

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** XID 79: "GPU has fallen off the bus". */
export const XID_FELL_OFF_THE_BUS = 79;

interface GpuSeries {
  index: number;
  uuid: string;
  model: string;
  pciBusId: string | null;
  values: Partial<Record<Field, number>>;
}

const text = (value: string | undefined, max: number): string | null => {
  const trimmed = value?.trim();
  return trimmed ? trimmed.slice(0, max) : null;
};

function numberOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

const whole = (n: number | undefined): number | null =>
  n === undefined ? null : Math.max(0, Math.round(n));
const within = (n: number | undefined, min: number, max: number): number | null =>
  n === undefined || n < min || n > max ? null : n;

/** The GPUs, host and driver a scrape of the DCGM exporter describes. */
export function parseDcgmExporter(body: string): GpuSnapshot {
  let families: ReturnType<typeof parsePrometheusTextFormat>;
  try {
    // the parser drops a last line that has no line break after it
    families = parsePrometheusTextFormat(body.endsWith('\n') ? body : `${body}\n`);
  } catch (error) {
    throw new GpuSourceError(
      `the DCGM exporter's answer is not Prometheus text: ${(error as Error).message}`.slice(
        0,
        500,
      ),
    );
  }
  // the parser is lenient (an HTML error page reads as a metric named "<html>"): check names
  const stranger = families.find((family) => !METRIC_NAME.test(family.name));
  if (stranger) {
    throw new GpuSourceError(
      `the DCGM exporter's answer is not Prometheus text: ${JSON.stringify(stranger.name.slice(0, 100))} is no metric name`,
    );
  }

  const gpus = new Map<string, GpuSeries>();
  let host: string | null = null;
  let driverVersion: string | null = null;
  for (const family of families) {
    const field = FIELD_OF.get(family.name);
    for (const sample of family.metrics) {
      const labels = sample.labels ?? {};
      host ??= text(labels.Hostname ?? labels.hostname, 253);
      driverVersion ??= text(labels.DCGM_FI_DRIVER_VERSION, 64);
      if (!field) continue;
      const uuid = text(labels.UUID, 100);
      const index = numberOf(labels.gpu);
      if (!uuid || index === undefined || !Number.isInteger(index) || index < 0 || index > 63) {
        continue;
      }
      let gpu = gpus.get(uuid);
      if (!gpu) {
        gpu = {
          index,
          uuid,
          model: text(labels.modelName, 100) ?? 'unknown',
          pciBusId: text(labels.pci_bus_id, 32),
          values: {},
        };
        gpus.set(uuid, gpu);
      }
      const value = numberOf(sample.value);
      if (value === undefined) continue;
      // the device's own series wins over a MIG instance's; otherwise the first one seen
      const instance = labels.GPU_I_ID !== undefined;
      if (!instance || gpu.values[field] === undefined) gpu.values[field] = value;
    }
  }

  const readings = [...gpus.values()]
    .map(toReading)
    .sort((a, b) => a.index - b.index || a.uuid.localeCompare(b.uuid));
  return { source: 'dcgm-exporter', host, driverVersion, gpus: readings };
}

function toReading(gpu: GpuSeries): GpuReading {
  const v = gpu.values;
  const used = whole(v.used);
  const free = whole(v.free);
  const reserved = whole(v.reserved) ?? 0;
  const lastXid = whole(v.xid);
  const lost = lastXid === XID_FELL_OFF_THE_BUS || (used === null && free === null);
  const total = whole(v.total) ?? (used ?? 0) + (free ?? 0) + reserved;
  return {
    uuid: gpu.uuid,
    index: gpu.index,
    model: gpu.model,
    pciBusId: gpu.pciBusId,
    totalMiB: Math.min(total, 1_048_576),
    usedMiB: Math.min(used ?? 0, 1_048_576),
    freeMiB: Math.min(free ?? 0, 1_048_576),
    reservedMiB: Math.min(reserved, 1_048_576),
    utilizationPercent: within(v.util, 0, 100),
    temperatureC: within(v.temp, -50, 200),
    slowdownTemperatureC: within(v.slowdownTemp, 1, 200),
    powerWatts: within(v.power, 0, 5_000),
    lastXid,
    eccUncorrectable: whole(v.eccDbe),
    remappedRowsUncorrectable: whole(v.remappedRows),
    rowRemapFailed: v.remapFailure === undefined ? null : v.remapFailure > 0,
    lost,
  };
}
