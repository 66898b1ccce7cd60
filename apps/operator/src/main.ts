import 'reflect-metadata';
import { startTelemetry } from '@lattice/telemetry';

startTelemetry('operator');

// everything else loads after tracing has hooked into http
void import('./bootstrap').then(({ bootstrap }) => bootstrap());
