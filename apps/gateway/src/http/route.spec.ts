import { Body, Param, Query, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { HTTP_CODE_METADATA, PIPES_METADATA } from '@nestjs/common/constants';
import { DECORATORS } from '@nestjs/swagger';
import { DomainError, ErrorCode, Uuid } from '@lattice/contracts';
import { PUBLIC_ROUTE } from '@lattice/service-runtime';
import { z } from 'zod';
import { ROUTE_PERMISSION } from '../auth/route-access';
import { Route, errorCodesOf } from './route';

const Thing = z.object({ count: z.coerce.number().int() }).strict();
const Reply = z.object({ ok: z.boolean() });

class Things {
  @Route({
    summary: 'Change a thing',
    permission: { action: 'update', resource: 'Tenant' },
    params: { id: Uuid },
    body: Thing,
    response: Reply,
    status: 201,
    errors: [ErrorCode.NotFound, ErrorCode.InvalidState],
  })
  change(@Param('id') _id: string, @Body() _body: unknown) {}

  @Route({ summary: 'Open to all', permission: 'public', response: Reply })
  open() {}
}

const metadata = <T>(key: string, handler: object): T => Reflect.getMetadata(key, handler) as T;
const pipeOf = (handler: object) => metadata<PipeTransform[]>(PIPES_METADATA, handler)[0]!;
const at = (type: ArgumentMetadata['type'], data?: string): ArgumentMetadata => ({ type, data });

describe(Route.name, () => {
  it('declares the permission, or that the route is public', () => {
    expect(metadata(ROUTE_PERMISSION, Things.prototype.change)).toMatchObject({
      action: 'update',
      resource: 'Tenant',
    });
    expect(metadata(PUBLIC_ROUTE, Things.prototype.open)).toBe(true);
    expect(metadata(ROUTE_PERMISSION, Things.prototype.open)).toBeUndefined();
  });

  it('answers with the status it documents, 200 unless said', () => {
    expect(metadata(HTTP_CODE_METADATA, Things.prototype.change)).toBe(201);
    expect(metadata(HTTP_CODE_METADATA, Things.prototype.open)).toBe(200);
  });

  it('validates and coerces each part with the schema it documents', () => {
    const pipe = pipeOf(Things.prototype.change);
    expect(pipe.transform({ count: '3' }, at('body'))).toEqual({ count: 3 });
    const id = '4a0c5e0e-1d36-4d5b-9a53-2a2f3b9c7d10';
    expect(pipe.transform(id, at('param', 'id'))).toBe(id);
    expect(() => pipe.transform('not-a-uuid', at('param', 'id'))).toThrow(DomainError);
    expect(() => pipe.transform({ count: 1, extra: true }, at('body'))).toThrow(
      expect.objectContaining({ code: ErrorCode.ValidationFailed }),
    );
    // the caller and anything else the handler takes pass untouched
    const caller = { tenantId: null };
    expect(pipe.transform(caller, at('custom'))).toBe(caller);
  });

  it('documents one error response per status its parts and its service imply', () => {
    const statuses = (handler: object) =>
      Object.keys(metadata<Record<string, unknown>>(DECORATORS.API_RESPONSE, handler)).sort();
    expect(statuses(Things.prototype.change)).toEqual(
      ['201', '400', '401', '403', '404', '409', '413', '415', '429', '503', '504'].sort(),
    );
    expect(statuses(Things.prototype.open)).toEqual(['200', '503', '504']);
  });

  it('refuses a handler argument no schema validates', () => {
    expect(() => {
      class Unchecked {
        @Route({ summary: 'x', permission: 'authenticated', response: Reply })
        take(@Body() _body: unknown) {}
      }
      return Unchecked;
    }).toThrow('Unchecked.take: take the whole @Body()/@Query(), or a @Param the route declares');
    expect(() => {
      class Partial {
        @Route({ summary: 'x', permission: 'authenticated', query: Thing, response: Reply })
        take(@Query('count') _count: unknown) {}
      }
      return Partial;
    }).toThrow('Partial.take');
  });

  it('refuses a schema no argument takes, documented but never checked', () => {
    expect(() => {
      class Unread {
        @Route({ summary: 'x', permission: 'authenticated', body: Thing, response: Reply })
        take() {}
      }
      return Unread;
    }).toThrow('Unread.take: no argument takes the body');
  });
});

describe(errorCodesOf.name, () => {
  const base = { summary: 's', response: Reply } as const;

  it('adds what authentication, the tenant’s standing and its rate limit answer', () => {
    expect(errorCodesOf({ ...base, permission: 'authenticated' })).toEqual([
      ErrorCode.Unauthenticated,
      ErrorCode.Forbidden,
      ErrorCode.RateLimited,
      ErrorCode.Unavailable,
      ErrorCode.Timeout,
    ]);
  });

  it('adds what Fastify answers for a body, and validation for a query or path', () => {
    expect(errorCodesOf({ ...base, permission: 'public', body: Thing })).toEqual([
      ErrorCode.ValidationFailed,
      ErrorCode.PayloadTooLarge,
      ErrorCode.UnsupportedMediaType,
      ErrorCode.Unavailable,
      ErrorCode.Timeout,
    ]);
    expect(errorCodesOf({ ...base, permission: 'public', query: Thing })).toEqual([
      ErrorCode.ValidationFailed,
      ErrorCode.Unavailable,
      ErrorCode.Timeout,
    ]);
  });

  it('adds the service’s codes once each', () => {
    expect(
      errorCodesOf({
        ...base,
        permission: { action: 'read', resource: 'Tenant' },
        errors: [ErrorCode.Forbidden, ErrorCode.NotFound],
      }),
    ).toEqual([
      ErrorCode.Unauthenticated,
      ErrorCode.Forbidden,
      ErrorCode.RateLimited,
      ErrorCode.NotFound,
      ErrorCode.Unavailable,
      ErrorCode.Timeout,
    ]);
  });
});
