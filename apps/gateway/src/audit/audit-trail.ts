import { PLATFORM_TENANT_ID, DomainError, type AuditOutcome } from '@lattice/contracts';
import { auditActorOf, type AuditRecorder } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import type { FastifyRequest } from 'fastify';
import { statusOf } from '../http/problem';

export const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const VERB: Record<string, string> = {
  POST: 'create',
  PUT: 'replace',
  PATCH: 'update',
  DELETE: 'delete',
  GET: 'read',
};

const segment = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '') || 'x';

/**
 * What a request did, as an audit action and resource, from its route: `POST /v1/tenants`
 * is `tenants.create` on `tenants`; `POST /v1/tenants/:id/suspend` is `tenants.suspend` on
 * that tenant; `DELETE /v1/tenants/:id` is `tenants.delete`.
 */
export function describeRoute(
  method: string,
  route: string | undefined,
  params: Record<string, string> | undefined,
): { action: string; resource: { type: string; id?: string } } {
  if (!route) return { action: `http.${segment(method)}`, resource: { type: 'route' } };
  const parts = route
    .split('/')
    .filter((p) => p && p !== 'v1' && !p.startsWith(':'))
    .map(segment);
  const type = parts[0] ?? 'api';
  const verb = parts.length > 1 ? parts.slice(1).join('-') : (VERB[method] ?? segment(method));
  const id = params?.id;
  // kept whatever it holds: the recorder hashes an id the trail could not store as it is
  return { action: `${type}.${verb}`, resource: { type, ...(id ? { id } : {}) } };
}

export function outcomeOf(status: number): AuditOutcome {
  if (status === 401 || status === 403) return 'denied';
  return status < 400 ? 'success' : 'error';
}

export function statusOfError(error: unknown): number {
  if (error instanceof DomainError) return statusOf(error.code);
  return (error as { getStatus?: () => number })?.getStatus?.() ?? 500;
}

export type AuditedRequest = FastifyRequest & { lattice?: RequestContext; audited?: boolean };

/**
 * Routes whose calls the service behind them records itself, naming the user it identified
 * (whose address and browser the audit trail then seals under their key). An event from the
 * gateway would be a second, anonymous copy of the same call, with the address in clear,
 * that the request id ties to the user long after they are erased.
 */
export const RECORDED_BY_SERVICE = new Set([
  '/v1/auth/login',
  '/v1/auth/refresh',
  '/v1/auth/logout',
]);

/**
 * Refusals of what was sent (invalid, too large, of the wrong type), which end at the gateway
 * or at the service's contract before the service records anything: the gateway records them
 * even on the routes above, so no refused call goes unrecorded.
 */
const REFUSED_INPUT = new Set([400, 413, 415]);

/**
 * Records one request in the audit trail, at most once, without ever failing it: the
 * recorder queues the event and returns at once. The source IP and user agent are personal
 * data the audit trail seals under the acting user's key; a caller nobody vouched for has no
 * key to seal them under, so for them both are left out rather than kept in clear.
 */
export function recordRequest(
  recorder: AuditRecorder,
  request: AuditedRequest,
  status: number,
  error?: unknown,
): void {
  if (request.audited) return;
  if (RECORDED_BY_SERVICE.has(request.routeOptions?.url ?? '') && !REFUSED_INPUT.has(status))
    return;
  request.audited = true;
  try {
    const ctx = request.lattice;
    const { action, resource } = describeRoute(
      request.method,
      request.routeOptions?.url,
      request.params as Record<string, string> | undefined,
    );
    const userAgent = request.headers['user-agent'];
    recorder.record({
      tenantId: ctx?.tenantId ?? PLATFORM_TENANT_ID,
      actor: ctx ? auditActorOf(ctx) : { type: 'anonymous', id: 'anonymous', roles: [] },
      action,
      resource,
      outcome: outcomeOf(status),
      ...(ctx && request.ip ? { sourceIp: request.ip } : {}),
      ...(ctx && typeof userAgent === 'string' ? { userAgent: userAgent.slice(0, 512) } : {}),
      requestId: request.id.slice(0, 200),
      metadata: {
        method: request.method,
        status,
        ...(error instanceof DomainError ? { code: error.code } : {}),
      },
    });
  } catch {
    // the trail never fails the request; the recorder logs what it refuses
  }
}
