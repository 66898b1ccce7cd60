import { DomainError } from '@lattice/contracts';
import { Clock } from '@lattice/service-runtime';
import { QueryFailedError } from 'typeorm';

/** Awaits a call that must fail with a domain error, and returns that error. */
export async function failure(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

/** A clock that stands still until the test moves it. */
export class ManualClock extends Clock {
  constructor(private at: Date) {
    super();
  }

  now(): Date {
    return new Date(this.at);
  }

  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
}

/** The PostgreSQL error a statement fails with: its SQLSTATE code and message. */
export async function sqlFailure(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof QueryFailedError) {
      return { code: (error.driverError as { code: string }).code, message: error.message };
    }
    throw error;
  }
  throw new Error('expected the statement to fail');
}
