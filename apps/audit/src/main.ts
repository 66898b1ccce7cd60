import 'reflect-metadata';
import { serviceMain } from '@lattice/telemetry';

serviceMain('audit', () => import('./audit.app').then((app) => app.auditService));
