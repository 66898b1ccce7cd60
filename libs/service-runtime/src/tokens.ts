/** Injection tokens for what every service's runtime provides. */
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
export const LOGGER = Symbol('LOGGER');
export const SERVICE_NAME = Symbol('SERVICE_NAME');

/** Route metadata: reachable without credentials (health, metrics, docs, JWKS). */
export const PUBLIC_ROUTE = 'lattice:public-route';
