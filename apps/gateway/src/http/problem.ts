import { ErrorCode } from '@lattice/contracts';

/** RFC 9457 problem details, as every error leaves the gateway. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: ErrorCode;
  requestId?: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_BASE = 'https://lattice.dev/problems/';

/**
 * The one place an error code becomes an HTTP status and a title: a new code fails to compile
 * here until it has both.
 */
const MAPPING: Record<ErrorCode, { status: number; title: string }> = {
  [ErrorCode.ValidationFailed]: { status: 400, title: 'Validation failed' },
  [ErrorCode.Unauthenticated]: { status: 401, title: 'Authentication required' },
  [ErrorCode.Forbidden]: { status: 403, title: 'Forbidden' },
  [ErrorCode.NotFound]: { status: 404, title: 'Not found' },
  [ErrorCode.Conflict]: { status: 409, title: 'Conflict' },
  [ErrorCode.InvalidState]: { status: 409, title: 'Invalid state' },
  [ErrorCode.IdempotencyMismatch]: { status: 422, title: 'Idempotency key reused' },
  [ErrorCode.PayloadTooLarge]: { status: 413, title: 'Payload too large' },
  [ErrorCode.UnsupportedMediaType]: { status: 415, title: 'Unsupported media type' },
  [ErrorCode.QuotaExceeded]: { status: 429, title: 'Quota exceeded' },
  [ErrorCode.ContentRefused]: { status: 422, title: 'Content refused' },
  [ErrorCode.RateLimited]: { status: 429, title: 'Too many requests' },
  [ErrorCode.Internal]: { status: 500, title: 'Internal error' },
  [ErrorCode.Unavailable]: { status: 503, title: 'Service unavailable' },
  [ErrorCode.Timeout]: { status: 504, title: 'Upstream timeout' },
};

function mappingOf(code: ErrorCode): { status: number; title: string } {
  const mapping = MAPPING[code];
  if (!mapping) throw new Error(`unmapped error code ${String(code)}`);
  return mapping;
}

export const statusOf = (code: ErrorCode): number => mappingOf(code).status;

export const titleOf = (code: ErrorCode): string => mappingOf(code).title;

/** A stable `type` URI per code, e.g. https://lattice.dev/problems/not-found. */
export function problemType(code: ErrorCode): string {
  return PROBLEM_BASE + code.toLowerCase().replace(/_/g, '-');
}

export function problem(
  code: ErrorCode,
  detail: string,
  extra: { instance?: string; requestId?: string; details?: Record<string, unknown> } = {},
): Problem {
  const { issues, ...rest } = extra.details ?? {};
  return {
    // extensions first: a detail never overwrites a standard member
    ...rest,
    type: problemType(code),
    title: titleOf(code),
    status: statusOf(code),
    detail,
    code,
    ...(extra.instance ? { instance: extra.instance } : {}),
    ...(extra.requestId ? { requestId: extra.requestId } : {}),
    ...(Array.isArray(issues) ? { errors: issues as Problem['errors'] } : {}),
  };
}
