import 'reflect-metadata';
import { serviceMain } from '@lattice/telemetry';

serviceMain('inference-worker', () =>
  import('./inference-worker.app').then((app) => app.inferenceWorkerService),
);
