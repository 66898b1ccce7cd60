import 'reflect-metadata';
import { serviceMain } from '@lattice/telemetry';

serviceMain('gpu-simulator', () =>
  import('./gpu-simulator.app').then((app) => app.gpuSimulatorService),
);
