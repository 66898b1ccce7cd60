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

/** The one place an error code becomes an HTTP status. A new code fails to compile here. */
export function statusOf(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.ValidationFailed:
      return 400;
    case ErrorCode.Unauthenticated:
      return 401;
    case ErrorCode.Forbidden:
      return 403;
    case ErrorCode.NotFound:
      return 404;
    case ErrorCode.Conflict:
    case ErrorCode.InvalidState:
      return 409;
    case ErrorCode.IdempotencyMismatch:
      return 422;
    case ErrorCode.PayloadTooLarge:
      return 413;
    case ErrorCode.UnsupportedMediaType:
      return 415;
    case ErrorCode.QuotaExceeded:
    case ErrorCode.RateLimited:
      return 429;
    case ErrorCode.Internal:
      return 500;
    case ErrorCode.Unavailable:
      return 503;
    case ErrorCode.Timeout:
      return 504;
    default: {
      const unmapped: never = code;
      throw new Error(`unmapped error code ${String(unmapped)}`);
    }
  }
}

const TITLES: Record<ErrorCode, string> = {
  [ErrorCode.ValidationFailed]: 'Validation failed',
  [ErrorCode.Unauthenticated]: 'Authentication required',
  [ErrorCode.Forbidden]: 'Forbidden',
  [ErrorCode.NotFound]: 'Not found',
  [ErrorCode.Conflict]: 'Conflict',
  [ErrorCode.InvalidState]: 'Invalid state',
  [ErrorCode.IdempotencyMismatch]: 'Idempotency key reused',
  [ErrorCode.PayloadTooLarge]: 'Payload too large',
  [ErrorCode.UnsupportedMediaType]: 'Unsupported media type',
  [ErrorCode.QuotaExceeded]: 'Quota exceeded',
  [ErrorCode.RateLimited]: 'Too many requests',
  [ErrorCode.Unavailable]: 'Service unavailable',
  [ErrorCode.Timeout]: 'Upstream timeout',
  [ErrorCode.Internal]: 'Internal error',
};

export const titleOf = (code: ErrorCode): string => TITLES[code];

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
    title: TITLES[code],
    status: statusOf(code),
    detail,
    code,
    ...(extra.instance ? { instance: extra.instance } : {}),
    ...(extra.requestId ? { requestId: extra.requestId } : {}),
    ...(Array.isArray(issues) ? { errors: issues as Problem['errors'] } : {}),
  };
}
