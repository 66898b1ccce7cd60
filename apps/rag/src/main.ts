import 'reflect-metadata';
import { serviceMain } from '@lattice/telemetry';

serviceMain('rag', () => import('./rag.app').then((app) => app.ragService));
