import { createHash } from 'node:crypto';
import type { GpuLeaseChanged } from '@lattice/contracts';

/**
 * A simulated GPU node, for `npm start` without GPUs: V100s whose memory in use moves as the
 * GPU-node service grants and releases leases on them, shown in the DCGM exporter's text format
 * so the real agent reads it as it would a real node. Model names and host names say
 * "simulated"; nothing here touches hardware.
 */

export interface SimulatedGpuSpec {
  model: string;
  totalMiB: number;
  reservedMiB: number;
}

export interface SimulatedNodeSpec {
  name: string;
  gpus: SimulatedGpuSpec[];
}

/** V100s as driver R550 reports them: total counts the reserved memory. */
export const SIMULATED_V100 = {
  16: { model: 'Tesla V100-SXM2-16GB (simulated)', totalMiB: 16_384, reservedMiB: 240 },
  32: { model: 'Tesla V100-SXM2-32GB (simulated)', totalMiB: 32_768, reservedMiB: 288 },
} as const satisfies Record<number, SimulatedGpuSpec>;

/** The pool `npm start` runs: one node of four 16 GB V100s, one of two 32 GB. */
export const DEFAULT_SIMULATED_POOL = 'simulated-v100-16gb-0=4x16,simulated-v100-32gb-0=2x32';

/**
 * Reads a pool such as `simulated-v100-16gb-0=4x16,simulated-v100-32gb-0=2x32`: each node's
 * name, then how many V100s of which size (16 or 32 GB).
 */
export function parseSimulatedPool(text: string): SimulatedNodeSpec[] {
  const nodes = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const match = /^([a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?)=([1-8])x(16|32)$/.exec(part);
      if (!match) {
        throw new Error(
          `"${part}" is not name=<count>x<16|32> (a host name, 1 to 8 V100s of 16 or 32 GB)`,
        );
      }
      const gpu = SIMULATED_V100[Number(match[4]) as 16 | 32];
      return {
        name: match[1]!,
        gpus: Array.from({ length: Number(match[3]) }, () => ({ ...gpu })),
      };
    });
  if (nodes.length === 0) throw new Error('the pool names no node');
  if (new Set(nodes.map((n) => n.name)).size !== nodes.length)
    throw new Error('a node is named twice');
  return nodes;
}

/** A stable UUID for the simulated GPU, in NVIDIA's GPU-xxxxxxxx-... form. */
function simulatedUuid(node: string, index: number): string {
  const hex = createHash('sha256').update(`${node}/${index}`).digest('hex');
  return `GPU-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

interface GpuState extends SimulatedGpuSpec {
  index: number;
  uuid: string;
  pciBusId: string;
  /** MiB each live lease's process holds: its model plus its CUDA context. */
  leases: Map<string, number>;
}

export class SimulatedNode {
  private readonly gpus: GpuState[];

  constructor(
    readonly spec: SimulatedNodeSpec,
    /** What each lease's process takes on top of its model (the CUDA context). */
    private readonly cudaContextMiB: number,
  ) {
    this.gpus = spec.gpus.map((gpu, index) => ({
      ...gpu,
      index,
      uuid: simulatedUuid(spec.name, index),
      pciBusId: `00000000:${(0x18 + index * 0x20).toString(16).toUpperCase().padStart(2, '0')}:00.0`,
      leases: new Map(),
    }));
  }

  get name(): string {
    return this.spec.name;
  }

  get uuids(): string[] {
    return this.gpus.map((g) => g.uuid);
  }

  /** MiB in use on each GPU, by index. */
  usedMiB(): number[] {
    return this.gpus.map((g) => this.used(g));
  }

  /** Applies a lease event for one of this node's GPUs; whether it changed anything. */
  apply(event: GpuLeaseChanged): boolean {
    if (event.node !== this.spec.name) return false;
    const gpu = this.gpus.find((g) => g.uuid === event.gpuUuid);
    if (!gpu) return false;
    if (event.state === 'granted') {
      if (gpu.leases.has(event.leaseId)) return false;
      gpu.leases.set(event.leaseId, event.vramMiB + this.cudaContextMiB);
      return true;
    }
    return gpu.leases.delete(event.leaseId);
  }

  private used(gpu: GpuState): number {
    let sum = 0;
    for (const mib of gpu.leases.values()) sum += mib;
    return Math.min(sum, gpu.totalMiB - gpu.reservedMiB);
  }

  /** The node as the DCGM exporter would show it now (`tick` varies the readings a little). */
  render(tick: number): string {
    const rows = this.gpus.map((gpu) => {
      const used = this.used(gpu);
      const util = Math.min(
        100,
        gpu.leases.size * 18 + (gpu.leases.size > 0 ? (tick * 7 + gpu.index * 3) % 9 : 0),
      );
      return {
        gpu,
        values: {
          DCGM_FI_DEV_GPU_TEMP: String(34 + Math.round(util * 0.35)),
          DCGM_FI_DEV_POWER_USAGE: (39 + util * 2.1).toFixed(6),
          DCGM_FI_DEV_GPU_UTIL: String(util),
          DCGM_FI_DEV_XID_ERRORS: '0',
          DCGM_FI_DEV_FB_FREE: String(gpu.totalMiB - gpu.reservedMiB - used),
          DCGM_FI_DEV_FB_USED: String(used),
          DCGM_FI_DEV_FB_RESERVED: String(gpu.reservedMiB),
        } as Record<string, string>,
      };
    });
    const lines: string[] = [];
    for (const [name, help] of FIELDS) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
      for (const { gpu, values } of rows) {
        lines.push(
          `${name}{gpu="${gpu.index}",UUID="${gpu.uuid}",pci_bus_id="${gpu.pciBusId}",device="nvidia${gpu.index}",modelName="${gpu.model}",hostname="${this.spec.name}",DCGM_FI_DRIVER_VERSION="550.127.05"} ${values[name]}`,
        );
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

const FIELDS: ReadonlyArray<[string, string]> = [
  ['DCGM_FI_DEV_GPU_TEMP', 'GPU temperature (in C).'],
  ['DCGM_FI_DEV_POWER_USAGE', 'Power draw (in W).'],
  ['DCGM_FI_DEV_GPU_UTIL', 'GPU utilization (in %).'],
  ['DCGM_FI_DEV_XID_ERRORS', 'Value of the last XID error encountered.'],
  ['DCGM_FI_DEV_FB_FREE', 'Framebuffer memory free (in MiB).'],
  ['DCGM_FI_DEV_FB_USED', 'Framebuffer memory used (in MiB).'],
  ['DCGM_FI_DEV_FB_RESERVED', 'Framebuffer memory reserved (in MiB).'],
];
