import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { DomainError, ErrorCode, type JobState } from '@lattice/contracts';
import { JobOutbox } from '../events/job-outbox';
import { JobMetering } from '../metering/job-metering';
import { canMove } from './job-lifecycle';
import { JobRepository, type JobChange, type JobRow } from './job.repository';

export interface MoveOptions {
  at: Date;
  workerId?: string | null;
  error?: string | null;
}

/**
 * Moves a job from one state to the next inside the caller's transaction: checks the move is
 * allowed, rewrites the row only if nobody moved it first, records the transition and queues
 * its JOB_EVENTS message, and meters a run that this move ends. The one way a job's state
 * changes after it was created.
 */
@Injectable()
export class JobTransitions {
  constructor(
    private readonly jobs: JobRepository,
    private readonly outbox: JobOutbox,
    private readonly metering: JobMetering,
  ) {}

  async move(
    em: EntityManager,
    job: JobRow,
    to: JobState,
    change: Partial<Omit<JobChange, 'state' | 'updatedAt'>>,
    options: MoveOptions,
  ): Promise<JobRow> {
    if (!canMove(job.state, to))
      throw new DomainError(ErrorCode.InvalidState, `a ${job.state} job cannot become ${to}`, {
        state: job.state,
      });
    const moved = await this.jobs.update(em, job.id, job.state, {
      state: to,
      attempts: change.attempts ?? job.attempts,
      notBefore: change.notBefore ?? job.notBefore,
      leaseOwner: change.leaseOwner !== undefined ? change.leaseOwner : job.leaseOwner,
      leaseExpiresAt:
        change.leaseExpiresAt !== undefined ? change.leaseExpiresAt : job.leaseExpiresAt,
      result: change.result !== undefined ? change.result : job.result,
      lastError: change.lastError !== undefined ? change.lastError : job.lastError,
      updatedAt: options.at,
      startedAt: change.startedAt !== undefined ? change.startedAt : job.startedAt,
      finishedAt: change.finishedAt !== undefined ? change.finishedAt : job.finishedAt,
    });
    if (!moved)
      throw new DomainError(ErrorCode.Conflict, 'the job changed meanwhile; try again', {
        state: job.state,
      });
    await this.recorded(em, job.state, moved, options);
    if (job.state === 'running') await this.metering.runEnded(em, job, options.at);
    return moved;
  }

  /** Records a move already written (a batch lease): the transition and its event. */
  async recorded(
    em: EntityManager,
    from: JobState | null,
    job: JobRow,
    options: MoveOptions,
  ): Promise<void> {
    const workerId = options.workerId ?? null;
    const error = options.error ?? null;
    await this.jobs.recordTransition(em, {
      tenantId: job.tenantId,
      jobId: job.id,
      from,
      to: job.state,
      attempt: job.attempts,
      workerId,
      error,
      at: options.at,
    });
    await this.outbox.record(em, {
      eventId: randomUUID(),
      jobId: job.id,
      tenantId: job.tenantId,
      queue: job.queue,
      type: job.type,
      from,
      to: job.state,
      attempt: job.attempts,
      workerId,
      error,
      occurredAt: options.at.toISOString(),
    });
  }
}
