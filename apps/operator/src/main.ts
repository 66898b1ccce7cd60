import 'reflect-metadata';
import { serviceMain } from '@lattice/telemetry';

serviceMain('operator', () => import('./operator.app').then((app) => app.operatorService));
