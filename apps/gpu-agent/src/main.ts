import 'reflect-metadata';
import { serviceMain } from '@lattice/telemetry';

serviceMain('gpu-agent', () => import('./gpu-agent.app').then((app) => app.gpuAgentService));
