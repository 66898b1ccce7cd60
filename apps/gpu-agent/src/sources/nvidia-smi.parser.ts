import type { GpuReading } from '@lattice/contracts';
import { GpuSourceError, type GpuSnapshot } from './gpu-source';

/**
 * Reads `nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits` into one reading per
 * GPU, where no DCGM exporter runs. nvidia-smi writes one line per GPU, the values in the order
 * asked, separated by ", ", and:
 * - `[N/A]` / `[Not Supported]` / `[Unknown Error]` where a value is missing (a V100 has no
 *   remapped rows, older drivers no reserved memory);
 * - `[GPU requires reset]` in every value of a GPU after a fatal error (XID 48, 79, ...);
 * - `Unable to determine the device handle for GPU 0000:02:00.0: GPU is lost. Reboot the system
 *   to recover this GPU` (or `: Unknown Error`) instead of the line of a GPU that fell off the
 *   bus; the other GPUs' lines follow and nvidia-smi exits non-zero.
 * A lost GPU is reported with what was last known of it (by PCI bus id), or as an unknown GPU.
 */

/** What the agent asks for (R510+ drivers: reserved memory and remapped rows). */
export const NVIDIA_SMI_FIELDS = [
  'index',
  'uuid',
  'name',
  'pci.bus_id',
  'driver_version',
  'memory.total',
  'memory.used',
  'memory.free',
  'memory.reserved',
  'utilization.gpu',
  'temperature.gpu',
  'power.draw',
  'ecc.errors.uncorrected.volatile.total',
  'remapped_rows.uncorrectable',
  'remapped_rows.failure',
] as const;

/** What every driver since R450 answers; asked when the full list is refused. */
export const NVIDIA_SMI_BASE_FIELDS = NVIDIA_SMI_FIELDS.filter(
  (f) => f !== 'memory.reserved' && !f.startsWith('remapped_rows.'),
);

export type NvidiaSmiField = (typeof NVIDIA_SMI_FIELDS)[number];

const DEVICE_HANDLE_ERROR =
  /^Unable to determine the device handle for GPU\s*([0-9A-Fa-f]+:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f])\s*:\s*(.*)$/;
const REQUIRES_RESET = '[GPU requires reset]';
const MISSING = /^\[?(N\/A|Not Supported|Unknown Error|Insufficient Permissions)\]?$/i;

/** `00000000:3B:00.0` and `0000:3b:00.0` name the same device. */
export function normalizeBusId(busId: string): string {
  const match = /^([0-9a-f]+):([0-9a-f]{2}:[0-9a-f]{2}\.[0-9a-f])$/i.exec(busId.trim());
  if (!match) return busId.trim().toLowerCase();
  return `${parseInt(match[1]!, 16).toString(16).padStart(8, '0')}:${match[2]!.toLowerCase()}`;
}

/** Thrown when nvidia-smi refuses a field it does not know (drivers older than the list). */
export class UnknownFieldError extends GpuSourceError {
  override name = 'UnknownFieldError';
}

interface Row {
  values: Map<NvidiaSmiField, string | null>;
  requiresReset: boolean;
}

function numberOf(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

const whole = (n: number | undefined): number | null =>
  n === undefined ? null : Math.min(1_048_576, Math.max(0, Math.round(n)));
const within = (n: number | undefined, min: number, max: number): number | null =>
  n === undefined || n < min || n > max ? null : n;

function flag(value: string | null | undefined): boolean | null {
  if (!value) return null;
  if (/^(yes|true|1)$/i.test(value)) return true;
  if (/^(no|false|0)$/i.test(value)) return false;
  return null;
}

/**
 * The GPUs nvidia-smi's CSV answer describes. `known` holds each GPU last read, by normalised
 * PCI bus id, so a GPU that is lost now keeps its identity.
 */
export function parseNvidiaSmi(
  stdout: string,
  fields: readonly NvidiaSmiField[] = NVIDIA_SMI_FIELDS,
  known: ReadonlyMap<string, GpuReading> = new Map(),
): GpuSnapshot {
  const rows: Row[] = [];
  const lostBusIds: string[] = [];
  const unreadable: string[] = [];
  for (const raw of stdout.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const lost = DEVICE_HANDLE_ERROR.exec(line);
    if (lost) {
      lostBusIds.push(normalizeBusId(lost[1]!));
      continue;
    }
    if (/is not a valid field to query/i.test(line))
      throw new UnknownFieldError(line.slice(0, 500));
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== fields.length) {
      unreadable.push(line);
      continue;
    }
    const values = new Map<NvidiaSmiField, string | null>();
    let requiresReset = false;
    fields.forEach((field, i) => {
      const cell = cells[i]!;
      if (cell === REQUIRES_RESET) requiresReset = true;
      values.set(field, cell === REQUIRES_RESET || MISSING.test(cell) ? null : cell);
    });
    rows.push({ values, requiresReset });
  }
  if (rows.length === 0 && lostBusIds.length === 0 && unreadable.length > 0) {
    // "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver", ...
    throw new GpuSourceError(`nvidia-smi: ${unreadable[0]!.slice(0, 500)}`);
  }

  let driverVersion: string | null = null;
  const gpus: GpuReading[] = [];
  for (const row of rows) {
    const v = (field: NvidiaSmiField) => row.values.get(field) ?? null;
    driverVersion ??= v('driver_version')?.slice(0, 64) ?? null;
    const busId = v('pci.bus_id');
    const before = busId ? known.get(normalizeBusId(busId)) : undefined;
    const index = numberOf(v('index'));
    const uuid = v('uuid') ?? before?.uuid;
    if (index === undefined || !Number.isInteger(index) || index < 0 || index > 63 || !uuid) {
      continue;
    }
    const used = whole(numberOf(v('memory.used')));
    const free = whole(numberOf(v('memory.free')));
    const reserved = whole(numberOf(v('memory.reserved'))) ?? 0;
    const total = whole(numberOf(v('memory.total')));
    gpus.push({
      uuid: uuid.slice(0, 100),
      index,
      model: (v('name') ?? before?.model ?? 'unknown').slice(0, 100),
      pciBusId: busId?.slice(0, 32) ?? before?.pciBusId ?? null,
      // newer drivers count the reserved memory in the total (total = used + free + reserved)
      totalMiB: total ?? before?.totalMiB ?? 0,
      usedMiB: used ?? 0,
      freeMiB: free ?? 0,
      reservedMiB: reserved,
      utilizationPercent: within(numberOf(v('utilization.gpu')), 0, 100),
      temperatureC: within(numberOf(v('temperature.gpu')), -50, 200),
      slowdownTemperatureC: null,
      powerWatts: within(numberOf(v('power.draw')), 0, 5_000),
      lastXid: null,
      eccUncorrectable: whole(numberOf(v('ecc.errors.uncorrected.volatile.total'))),
      remappedRowsUncorrectable: whole(numberOf(v('remapped_rows.uncorrectable'))),
      rowRemapFailed: flag(v('remapped_rows.failure')),
      lost: row.requiresReset,
    });
  }

  const taken = new Set(gpus.map((g) => g.index));
  for (const busId of lostBusIds) {
    const before = known.get(busId);
    let index = before?.index;
    if (index === undefined || taken.has(index)) {
      index = 0;
      while (taken.has(index)) index += 1;
    }
    taken.add(index);
    gpus.push({
      uuid: before?.uuid ?? `unknown-${busId}`,
      index,
      model: before?.model ?? 'unknown',
      pciBusId: before?.pciBusId ?? busId,
      totalMiB: before?.totalMiB ?? 0,
      usedMiB: 0,
      freeMiB: 0,
      reservedMiB: before?.reservedMiB ?? 0,
      utilizationPercent: null,
      temperatureC: null,
      slowdownTemperatureC: null,
      powerWatts: null,
      lastXid: null,
      eccUncorrectable: null,
      remappedRowsUncorrectable: null,
      rowRemapFailed: null,
      lost: true,
    });
  }
  gpus.sort((a, b) => a.index - b.index);
  return { source: 'nvidia-smi', host: null, driverVersion, gpus };
}
