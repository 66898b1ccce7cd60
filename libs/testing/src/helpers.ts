import { DomainError } from '@lattice/contracts';
import { Clock } from '@lattice/service-runtime';

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
