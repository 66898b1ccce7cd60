import 'reflect-metadata';
import { serviceMain } from '@lattice/telemetry';

serviceMain('tenants', () => import('./tenants.app').then((app) => app.tenantsService));
