import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { NatsConnection, Subscription } from 'nats';
import {
  DomainError,
  ErrorCode,
  FINAL_JOB_STATES,
  InferenceJobResult,
  InferenceStreamChunk,
  SchedulerJobsCancel,
  SchedulerJobsGet,
  SchedulerJobsSubmit,
  inferenceStreamSubject,
  interactiveInferenceJob,
  type InferenceJobPayload,
  type JobView,
} from '@lattice/contracts';
import { RpcClient, SubjectNamespace } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { LOGGER, NATS_CONNECTION } from '@lattice/service-runtime';

export interface GenerationSettings {
  /** The scheduler queue answers go to. */
  queue: string;
  /** How long an answer may take, from submission to the job's result. */
  timeoutMs: number;
  /** How often the job is read while its stream is silent (a job that failed before it streamed). */
  pollMs: number;
}
export const GENERATION_SETTINGS = Symbol('GENERATION_SETTINGS');

export interface GenerationRequest {
  tenantId: string;
  payload: Omit<InferenceJobPayload, 'stream'>;
  /** Told the job id once the scheduler took it. */
  onSubmitted?: (jobId: string) => void;
  /**
   * Each delta in order as the model writes it. Returning an error stops the answer: the job is
   * cancelled and the generation fails with that error.
   */
  onDelta?: (seq: number, text: string) => true | DomainError;
}

export interface Generation {
  jobId: string;
  result: InferenceJobResult;
}

/**
 * Generation through the scheduler: the completion is an interactive job on the inference
 * queue, submitted as the caller (so the job is theirs, and fair share weighs their tenant); its
 * deltas are heard on the job's own stream subject, and its result read from the job once the
 * stream says it is done. A silent stream is covered by reading the job now and then, and the
 * whole by a timeout that cancels the job.
 */
@Injectable()
export class AnswerGenerator {
  constructor(
    private readonly rpc: RpcClient,
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    private readonly ns: SubjectNamespace,
    @Inject(GENERATION_SETTINGS) private readonly settings: GenerationSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async generate(ctx: RequestContext, request: GenerationRequest): Promise<Generation> {
    const subject = inferenceStreamSubject(randomUUID());
    const deadline = Date.now() + this.settings.timeoutMs;
    let finish!: (outcome: 'done' | 'stream-error' | DomainError) => void;
    const streamEnded = new Promise<'done' | 'stream-error' | DomainError>((resolve) => {
      finish = resolve;
    });
    let expected = 0;
    const sub: Subscription = this.nats.subscribe(this.ns.subject(subject), {
      callback: (error, msg) => {
        if (error) return;
        const parsed = InferenceStreamChunk.safeParse(safeJson(msg.data));
        if (!parsed.success) return;
        const chunk = parsed.data;
        if ('delta' in chunk) {
          if (chunk.seq !== expected) return;
          expected += 1;
          const verdict = request.onDelta?.(chunk.seq, chunk.delta) ?? true;
          if (verdict !== true) finish(verdict);
        } else finish('error' in chunk ? 'stream-error' : 'done');
      },
    });
    let jobId: string | undefined;
    try {
      const job = await this.rpc
        .request(
          SchedulerJobsSubmit,
          {
            ...interactiveInferenceJob(
              { ...request.payload, stream: { subject } },
              { timeoutSeconds: Math.ceil(this.settings.timeoutMs / 1000) },
            ),
            queue: this.settings.queue,
            tenantId: request.tenantId,
          },
          ctx,
        )
        .catch((error: unknown) => {
          // the caller named a collection, not a queue: a missing queue is the platform's to fix
          if (error instanceof DomainError && error.code === ErrorCode.NotFound)
            throw new DomainError(
              ErrorCode.Unavailable,
              `answers are not being taken: the queue ${this.settings.queue} is not declared`,
              { queue: this.settings.queue },
            );
          throw error;
        });
      jobId = job.id;
      request.onSubmitted?.(job.id);
      const ended = await this.waitForEnd(ctx, request.tenantId, job.id, streamEnded, deadline);
      if (ended instanceof DomainError) {
        await this.cancel(ctx, request.tenantId, job.id);
        throw ended;
      }
      const final = await this.finalState(ctx, request.tenantId, job.id, deadline);
      return { jobId: job.id, result: resultOf(final) };
    } catch (error) {
      if (error instanceof DomainError && error.code === ErrorCode.Timeout && jobId)
        await this.cancel(ctx, request.tenantId, jobId);
      throw error;
    } finally {
      sub.unsubscribe();
    }
  }

  /** Until the stream ends, the job ends without it (read now and then), or the deadline. */
  private async waitForEnd(
    ctx: RequestContext,
    tenantId: string,
    jobId: string,
    streamEnded: Promise<'done' | 'stream-error' | DomainError>,
    deadline: number,
  ): Promise<'done' | 'stream-error' | 'job-ended' | DomainError> {
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw timedOut();
      const tick = new Promise<'tick'>((resolve) => {
        const timer = setTimeout(() => resolve('tick'), Math.min(left, this.settings.pollMs));
        timer.unref?.();
      });
      const outcome = await Promise.race([streamEnded, tick]);
      if (outcome !== 'tick') return outcome;
      const job = await this.get(ctx, tenantId, jobId);
      if (FINAL_JOB_STATES.includes(job.state)) return 'job-ended';
    }
  }

  /** The job once final: the worker reports its result just after the stream's last chunk. */
  private async finalState(
    ctx: RequestContext,
    tenantId: string,
    jobId: string,
    deadline: number,
  ): Promise<JobView> {
    let wait = 20;
    for (;;) {
      const job = await this.get(ctx, tenantId, jobId);
      if (FINAL_JOB_STATES.includes(job.state)) return job;
      if (Date.now() + wait > deadline) throw timedOut();
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, this.settings.pollMs);
    }
  }

  private get(ctx: RequestContext, tenantId: string, id: string): Promise<JobView> {
    return this.rpc.request(SchedulerJobsGet, { id, tenantId }, ctx);
  }

  private async cancel(ctx: RequestContext, tenantId: string, id: string): Promise<void> {
    await this.rpc.request(SchedulerJobsCancel, { id, tenantId }, ctx).catch((error: unknown) => {
      this.logger.warn({ err: error, jobId: id }, 'could not cancel an answer job');
    });
  }
}

function resultOf(job: JobView): InferenceJobResult {
  if (job.state === 'succeeded') {
    const parsed = InferenceJobResult.safeParse(job.result);
    if (parsed.success) return parsed.data;
    throw new DomainError(ErrorCode.Internal, 'the inference job answered outside its contract');
  }
  if (job.state === 'cancelled')
    throw new DomainError(ErrorCode.InvalidState, 'the answer was cancelled', { jobId: job.id });
  throw new DomainError(ErrorCode.Unavailable, 'no model could write the answer; ask again', {
    jobId: job.id,
    state: job.state,
    error: job.lastError,
  });
}

const timedOut = () =>
  new DomainError(ErrorCode.Timeout, 'the answer took longer than allowed and was cancelled');

function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}
