import 'reflect-metadata';
import { startTelemetry } from '@lattice/telemetry';

startTelemetry('audit');

// everything else loads after tracing has hooked into http and pg
void import('./bootstrap').then(({ bootstrap }) => bootstrap());
