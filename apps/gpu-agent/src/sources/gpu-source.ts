import type { GpuReading, GpuReadingSource } from '@lattice/contracts';

/** What one read of a node's GPUs gives. */
export interface GpuSnapshot {
  source: GpuReadingSource;
  /** The host name the source reports, if it does (the exporter's host label). */
  host: string | null;
  driverVersion: string | null;
  gpus: GpuReading[];
}

/** A place the agent reads its node's GPUs from; throws `GpuSourceError` when it cannot. */
export interface GpuSource {
  readonly kind: GpuReadingSource;
  read(): Promise<GpuSnapshot>;
}

/** The source could not be read this time: the agent reports it and tries again next beat. */
export class GpuSourceError extends Error {
  override name = 'GpuSourceError';
}
