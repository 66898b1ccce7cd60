const PROBE_ROUTE = /^\/(livez|readyz|metrics)$/;

/**
 * Whether a route pattern is one that probes and scrapes call (`/livez`, `/readyz`,
 * `/metrics`): timed like every route, but neither logged nor traced.
 */
export const isProbeRoute = (route: string): boolean => PROBE_ROUTE.test(route);
