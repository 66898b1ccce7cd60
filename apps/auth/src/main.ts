import 'reflect-metadata';
import { serviceMain } from '@lattice/telemetry';

serviceMain('auth', () => import('./auth.app').then((app) => app.authService));
