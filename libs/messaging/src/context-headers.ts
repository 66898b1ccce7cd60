import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestContext } from '@lattice/request-context';

/** The NATS headers that carry a call's signed request context and its request id. */
export const CONTEXT_HEADER = 'lattice-context';
export const REQUEST_ID_HEADER = 'x-request-id';

/** The verified context of the call a handler is serving. */
export const requestContextStore = new AsyncLocalStorage<RequestContext>();
