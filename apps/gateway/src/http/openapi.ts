import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiQuery, ApiResponse } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { z } from 'zod';
import { PROBLEM_CONTENT_TYPE } from './problem';

/** The OpenAPI form of a contract schema, so the document says exactly what validation does. */
export function openApiSchema(schema: z.ZodType, io: 'input' | 'output'): SchemaObject {
  const json = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io,
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  delete json.$schema;
  return json as SchemaObject;
}

const ProblemSchema: SchemaObject = {
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    code: { type: 'string' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
};

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is not valid',
  401: 'Missing or invalid credentials',
  403: 'Not allowed',
  404: 'No such resource',
  409: 'Conflicts with the current state',
  413: 'Body too large',
  415: 'Body is not JSON',
  503: 'A service behind the gateway is unavailable',
};

export interface RouteDoc {
  summary: string;
  body?: z.ZodType;
  query?: z.ZodType;
  params?: Record<string, z.ZodType>;
  response: z.ZodType;
  status?: number;
  errors?: number[];
}

/** Documents a route from the schemas that validate it. */
export function Documented(doc: RouteDoc) {
  const decorators = [
    ApiOperation({ summary: doc.summary }),
    ApiResponse({
      status: doc.status ?? 200,
      description: 'Success',
      schema: openApiSchema(doc.response, 'output'),
    }),
  ];
  if (doc.body) decorators.push(ApiBody({ schema: openApiSchema(doc.body, 'input') }));
  if (doc.query) {
    const query = openApiSchema(doc.query, 'input') as {
      properties?: Record<string, SchemaObject>;
      required?: string[];
    };
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      decorators.push(
        ApiQuery({ name, required: query.required?.includes(name) ?? false, schema }),
      );
    }
  }
  for (const [name, schema] of Object.entries(doc.params ?? {})) {
    decorators.push(ApiParam({ name, required: true, schema: openApiSchema(schema, 'input') }));
  }
  for (const status of [400, 401, 503, ...(doc.errors ?? [])]) {
    decorators.push(
      ApiResponse({
        status,
        description: PROBLEM_DESCRIPTIONS[status] ?? 'Error',
        content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
      }),
    );
  }
  return applyDecorators(...decorators);
}
