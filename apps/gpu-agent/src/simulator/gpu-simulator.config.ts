import { z } from 'zod';
import { commonConfig, integer, variable, type ConfigOf } from '@lattice/config';
import { DEFAULT_SIMULATED_POOL, parseSimulatedPool } from './simulated-node';

const { NATS_URL, LATTICE_NAMESPACE, LOG_LEVEL, LATTICE_LOG_FORMAT, LATTICE_BIND_HOST } =
  commonConfig;

export const gpuSimulatorConfigSpec = {
  NATS_URL,
  LATTICE_NAMESPACE,
  LOG_LEVEL,
  LATTICE_LOG_FORMAT,
  LATTICE_BIND_HOST,
  LATTICE_GPU_SIMULATOR_POOL: variable(
    z
      .string()
      .default(DEFAULT_SIMULATED_POOL)
      .transform((text, ctx) => {
        try {
          return parseSimulatedPool(text);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
          return z.NEVER;
        }
      }),
    'The simulated nodes: name=<count>x<16|32>, comma-separated (V100s of 16 or 32 GB).',
  ),
  LATTICE_GPU_SIMULATOR_PORTS: variable(
    z
      .string()
      .regex(/^\d{1,5}(,\d{1,5})*$/, 'must be ports separated by commas')
      .transform((text) => text.split(',').map(Number))
      .refine((ports) => ports.every((p) => p <= 65_535), 'a port is at most 65535')
      .optional(),
    'Port of each simulated node exporter, in the order of the pool; unset, 9401, 9402 and so on.',
  ),
  LATTICE_GPU_SIMULATOR_CUDA_CONTEXT_MIB: variable(
    integer(0, 4_096, 400),
    'Memory each simulated lease process takes on top of its model (its CUDA context).',
  ),
};

export type GpuSimulatorConfig = ConfigOf<typeof gpuSimulatorConfigSpec>;
