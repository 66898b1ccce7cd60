/**
 * Every failure a service reports travels as one of these codes. The gateway maps each to an
 * HTTP status in one exhaustive switch, so adding a code without mapping it fails the build.
 */
export enum ErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  NotFound = 'NOT_FOUND',
  Conflict = 'CONFLICT',
  InvalidState = 'INVALID_STATE',
  /** An idempotency key replayed with a different request. */
  IdempotencyMismatch = 'IDEMPOTENCY_MISMATCH',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  QuotaExceeded = 'QUOTA_EXCEEDED',
  /** Content refused for what it says (a question screened as prompt injection, an answer that leaked). */
  ContentRefused = 'CONTENT_REFUSED',
  RateLimited = 'RATE_LIMITED',
  Unavailable = 'UNAVAILABLE',
  Timeout = 'TIMEOUT',
  Internal = 'INTERNAL',
}

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/** A failure with a code, thrown by domain code and carried unchanged across NATS. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  toPayload(): ErrorPayload {
    return {
      code: this.code,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
    };
  }

  static isPayload(value: unknown): value is ErrorPayload {
    return (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as ErrorPayload).code === 'string' &&
      Object.values(ErrorCode).includes((value as ErrorPayload).code) &&
      typeof (value as ErrorPayload).message === 'string'
    );
  }

  static fromPayload(payload: ErrorPayload): DomainError {
    return new DomainError(payload.code, payload.message, payload.details);
  }
}

export interface ValidationIssue {
  path: string;
  message: string;
}

const UNDONE = 'the request met a concurrent change and was undone: send it again';

/**
 * PostgreSQL errors (by SQLSTATE) that the input of a call causes, not the service: each is
 * answered as the caller's mistake, with a message that names no table, constraint or value,
 * since a unique or foreign key violation must not reveal another tenant's row. A transaction
 * that collided with another (a serialization failure, or the victim of a deadlock) changed
 * nothing and would succeed if sent again: it is answered as unavailable for the moment (503 with
 * Retry-After at the gateway), not as an internal error.
 */
const DATABASE_ERRORS: Record<string, [ErrorCode, string]> = {
  '22001': [ErrorCode.ValidationFailed, 'a value is longer than it may be'],
  '22003': [ErrorCode.ValidationFailed, 'a number is out of range'],
  '22007': [ErrorCode.ValidationFailed, 'a date or time is not valid'],
  '22008': [ErrorCode.ValidationFailed, 'a date or time is out of range'],
  '22021': [ErrorCode.ValidationFailed, 'the request holds text that cannot be stored'],
  '22P02': [ErrorCode.ValidationFailed, 'a value is not of the expected type'],
  '22P05': [ErrorCode.ValidationFailed, 'the request holds text that cannot be stored'],
  '23502': [ErrorCode.ValidationFailed, 'a required value is missing'],
  '23503': [ErrorCode.Conflict, 'the request refers to something that does not exist or is in use'],
  '23505': [ErrorCode.Conflict, 'a record with these values already exists'],
  '23514': [ErrorCode.ValidationFailed, 'a value is not allowed'],
  '40001': [ErrorCode.Unavailable, UNDONE],
  '40P01': [ErrorCode.Unavailable, UNDONE],
};

/**
 * The domain error for a database error in `DATABASE_ERRORS` (TypeORM's QueryFailedError or the
 * driver's own error, read by their SQLSTATE `code`), or undefined for any other error.
 */
export function domainErrorOfDatabase(error: unknown): DomainError | undefined {
  const sqlState = (value: unknown): string | undefined => {
    const code = (value as { code?: unknown } | null | undefined)?.code;
    return typeof code === 'string' ? code : undefined;
  };
  const code =
    sqlState((error as { driverError?: unknown } | null | undefined)?.driverError) ??
    sqlState(error);
  const known = code === undefined ? undefined : DATABASE_ERRORS[code];
  return known && new DomainError(known[0], known[1]);
}
