import { SetMetadata, applyDecorators } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { Action, Resource } from '@lattice/contracts';
import type { ResourceRecord } from '@lattice/authz';
import { PUBLIC_ROUTE } from '@lattice/service-runtime';
import type { FastifyRequest } from 'fastify';

export const ROUTE_PERMISSION = 'lattice:route-permission';

export interface RoutePermission {
  action: Action;
  resource: Resource;
  /**
   * The record the route acts on, from the request (say the tenant named in the path), for
   * a check against that record rather than "some record of this kind".
   */
  record?: (request: FastifyRequest) => ResourceRecord;
}

/** The permission a route needs. A route with neither this nor `@Public()` admits no one. */
export function Requires(
  action: Action,
  resource: Resource,
  record?: RoutePermission['record'],
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(ROUTE_PERMISSION, { action, resource, record } satisfies RoutePermission),
    ApiExtension('x-lattice-permission', `${action}:${resource}`),
  );
}

/** Open to anyone: login, token refresh, the JWKS, health. */
export function Public(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(PUBLIC_ROUTE, true),
    ApiExtension('x-lattice-permission', 'public'),
  );
}

/** Open to any authenticated caller, whatever their roles (the caller's own identity). */
export const AUTHENTICATED = 'lattice:authenticated-route';
export function Authenticated(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(AUTHENTICATED, true),
    ApiExtension('x-lattice-permission', 'authenticated'),
  );
}

/** Reads a path parameter for a record check. */
export const param = (request: FastifyRequest, name: string): string =>
  String((request.params as Record<string, unknown>)[name] ?? '');

/** Who may call a route: anyone, any authenticated caller, or those holding a permission. */
export type RouteAccess = 'public' | 'authenticated' | RoutePermission;

export function Access(access: RouteAccess): MethodDecorator & ClassDecorator {
  if (access === 'public') return Public();
  if (access === 'authenticated') return Authenticated();
  return Requires(access.action, access.resource, access.record);
}
