import { GpuInitial1767000000000 } from './1767000000000-gpu-initial';

/** Every migration of the gpu schema, in order. */
export const gpuMigrations = [GpuInitial1767000000000];
