import { startTelemetry, type TelemetryOptions } from './telemetry';

/** What a service's entry point loads: something that runs the service. */
export interface RunnableService {
  run(): Promise<void>;
}

/**
 * A service process's `main`: tracing starts first and the service loads only after, so http
 * and pg are instrumented before Nest, Fastify or TypeORM require them.
 */
export function serviceMain(
  service: string,
  load: () => Promise<RunnableService>,
  telemetry: TelemetryOptions = {},
): void {
  startTelemetry(service, telemetry);
  load()
    .then((runnable) => runnable.run())
    .catch((error: unknown) => {
      console.error(`${service}: could not start`, error);
      process.exit(1);
    });
}
