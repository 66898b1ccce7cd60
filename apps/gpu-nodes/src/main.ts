import 'reflect-metadata';
import { serviceMain } from '@lattice/telemetry';

serviceMain('gpu-nodes', () => import('./gpu-nodes.app').then((app) => app.gpuNodesService));
