import { execFile } from 'node:child_process';
import type { GpuReading } from '@lattice/contracts';
import { GpuSourceError, type GpuSnapshot, type GpuSource } from './gpu-source';
import {
  NVIDIA_SMI_BASE_FIELDS,
  NVIDIA_SMI_FIELDS,
  UnknownFieldError,
  normalizeBusId,
  parseNvidiaSmi,
  type NvidiaSmiField,
} from './nvidia-smi.parser';

/**
 * Runs nvidia-smi's CSV query. A driver that does not know a field of the full list (older
 * than R510) is asked the base list from then on. It remembers each GPU by PCI bus id, so a GPU
 * that falls off the bus is still reported under its UUID.
 */
export class NvidiaSmiSource implements GpuSource {
  readonly kind = 'nvidia-smi' as const;
  private fields: readonly NvidiaSmiField[] = NVIDIA_SMI_FIELDS;
  private readonly known = new Map<string, GpuReading>();

  constructor(
    private readonly program: string,
    private readonly timeoutMs: number,
  ) {}

  async read(): Promise<GpuSnapshot> {
    try {
      return this.remember(parseNvidiaSmi(await this.run(this.fields), this.fields, this.known));
    } catch (error) {
      if (!(error instanceof UnknownFieldError) || this.fields === NVIDIA_SMI_BASE_FIELDS) {
        throw error;
      }
      this.fields = NVIDIA_SMI_BASE_FIELDS;
      return this.remember(parseNvidiaSmi(await this.run(this.fields), this.fields, this.known));
    }
  }

  private remember(snapshot: GpuSnapshot): GpuSnapshot {
    for (const gpu of snapshot.gpus) {
      if (!gpu.lost && gpu.pciBusId) this.known.set(normalizeBusId(gpu.pciBusId), gpu);
    }
    return snapshot;
  }

  /** Its output, stdout then stderr: a lost GPU's line comes with a non-zero exit. */
  private run(fields: readonly NvidiaSmiField[]): Promise<string> {
    const args = [`--query-gpu=${fields.join(',')}`, '--format=csv,noheader,nounits'];
    return new Promise((resolve, reject) => {
      execFile(
        this.program,
        args,
        { timeout: this.timeoutMs, maxBuffer: 1024 * 1024, encoding: 'utf8' },
        (error, stdout, stderr) => {
          const output = `${stdout}\n${stderr}`;
          if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
            reject(new GpuSourceError(`nvidia-smi not found (${this.program})`));
          } else if (error && error.killed) {
            reject(new GpuSourceError('nvidia-smi gave no answer in time'));
          } else if (error && !output.trim()) {
            reject(new GpuSourceError(`nvidia-smi failed: ${error.message.slice(0, 300)}`));
          } else {
            resolve(output);
          }
        },
      );
    });
  }
}
