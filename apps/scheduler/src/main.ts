import 'reflect-metadata';
import { serviceMain } from '@lattice/telemetry';

serviceMain('scheduler', () => import('./scheduler.app').then((app) => app.schedulerService));
