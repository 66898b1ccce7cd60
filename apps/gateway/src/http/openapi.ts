import { applyDecorators } from '@nestjs/common';
import {
  ApiBody,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiResponse,
} from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { z } from 'zod';
import { ErrorCode } from '@lattice/contracts';
import { PROBLEM_CONTENT_TYPE, statusOf, titleOf } from './problem';

type Json = Record<string, unknown>;

/**
 * A schema embedded in an operation cannot carry its own `definitions` (OpenAPI resolves `$ref`
 * against the whole document), so each reference is inlined; one that recurses (free-form JSON)
 * becomes `{}`, any value, where it would loop.
 */
function inlineDefinitions(node: unknown, definitions: Json, seen: readonly string[]): unknown {
  if (Array.isArray(node)) return node.map((item) => inlineDefinitions(item, definitions, seen));
  if (typeof node !== 'object' || node === null) return node;
  const ref = (node as Json).$ref;
  if (typeof ref === 'string') {
    const name = /^#\/(?:definitions|\$defs)\/(.+)$/.exec(ref)?.[1];
    if (name === undefined) return node;
    if (seen.includes(name) || !(name in definitions)) return {};
    return inlineDefinitions(definitions[name], definitions, [...seen, name]);
  }
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [key, inlineDefinitions(value, definitions, seen)]),
  );
}

/** The OpenAPI form of a contract schema, so the document says exactly what validation does. */
export function openApiSchema(schema: z.ZodType, io: 'input' | 'output'): SchemaObject {
  const {
    $schema: _,
    definitions,
    $defs,
    ...json
  } = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io,
    unrepresentable: 'any',
  }) as Json;
  return inlineDefinitions(json, { ...(definitions as Json), ...($defs as Json) }, []) as Json;
}

/** RFC 9457 problem details, as every error leaves the gateway: one schema in the document. */
export const PROBLEM_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    code: { type: 'string', enum: Object.values(ErrorCode) },
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
const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };

export interface OperationDoc {
  summary: string;
  body?: z.ZodType;
  query?: z.ZodType;
  params?: Record<string, z.ZodType>;
  response: z.ZodType;
  status: number;
  /** Media types of a success that is not JSON (a streamed export). */
  produces?: string[];
  /** Every error code the route may answer; each becomes its status, one response per status. */
  errors: readonly ErrorCode[];
}

/** Documents an operation from the schemas that validate it and the error codes it may answer. */
export function DocumentedOperation(doc: OperationDoc): MethodDecorator {
  const decorators = [
    ApiOperation({ summary: doc.summary }),
    ApiResponse({
      status: doc.status,
      description: 'Success',
      schema: openApiSchema(doc.response, 'output'),
    }),
  ];
  if (doc.produces) decorators.push(ApiProduces(...doc.produces));
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
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(doc.errors)) {
    byStatus.set(statusOf(code), [...(byStatus.get(statusOf(code)) ?? []), code]);
  }
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    decorators.push(
      ApiResponse({
        status,
        description: codes.map(titleOf).join(', or '),
        content: { [PROBLEM_CONTENT_TYPE]: { schema: PROBLEM_REF } },
      }),
    );
  }
  return applyDecorators(...decorators);
}
