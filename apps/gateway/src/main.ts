import 'reflect-metadata';
import { serviceMain } from '@lattice/telemetry';

serviceMain('gateway', () => import('./gateway.app').then((app) => app.gatewayService));
