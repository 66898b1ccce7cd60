import 'reflect-metadata';
import { startTelemetry } from '@lattice/telemetry';

startTelemetry('gateway');

// everything else loads after tracing has hooked into http
void import('./bootstrap').then(({ bootstrap }) => bootstrap());
