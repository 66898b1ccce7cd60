import 'reflect-metadata';
import { serviceMain } from '@lattice/telemetry';

// the gateway traces its requests in Fastify's hooks (http/request-tracing.ts)
serviceMain('gateway', () => import('./gateway.app').then((app) => app.gatewayService), {
  incomingHttp: false,
});
