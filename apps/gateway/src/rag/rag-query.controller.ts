import { Body, Controller, Get, Inject, Post, Query, Req, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import {
  AnswerStreamEvent,
  ErrorCode,
  RAG_ANSWER_STREAM_PREFIX,
  RagQuery,
  RagQueryBody,
  RagQueryReply,
  RagUsageReconciliation,
  ReconciliationQuery,
  ReconciliationReport,
  SchedulerJobsCancel,
} from '@lattice/contracts';
import { RpcClient, SubjectNamespace } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { LOGGER, NATS_CONNECTION } from '@lattice/service-runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { Caller } from '../auth/call-context.decorator';
import { Route } from '../http/route';
import { toProblem } from '../http/problem.filter';
import { EVENT_STREAM_CONTENT_TYPE, serverSentEvent } from './answer-events';

/** How long the gateway waits for a whole answer (the RAG service's own limit, and some). */
export const RAG_QUERY_TIMEOUT_MS = Symbol('RAG_QUERY_TIMEOUT_MS');

/**
 * Questions answered from a collection, as JSON or as server-sent events; and the tokens those
 * answers were estimated to take against what the model servers counted.
 */
@ApiTags('rag')
@Controller('v1/rag')
export class RagQueryController {
  constructor(
    private readonly rpc: RpcClient,
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    private readonly ns: SubjectNamespace,
    @Inject(RAG_QUERY_TIMEOUT_MS) private readonly timeoutMs: number,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * With `stream`, the answer streams as server-sent events: `citations` first (with the job
   * id), then `delta`s, then `done` with the usage and finish reason, or `error` with a
   * problem+json body. A refusal before the first event (screening, quota, a collection not
   * found) is an ordinary problem+json response. A client that goes away cancels the job.
   */
  @Post('query')
  @Route({
    summary:
      'Ask a collection a question: a grounded answer with citations, as JSON or streamed as server-sent events',
    permission: { action: 'query', resource: 'Collection' },
    body: RagQueryBody,
    response: RagQueryReply,
    produces: ['application/json', EVENT_STREAM_CONTENT_TYPE],
    errors: [
      ErrorCode.NotFound,
      ErrorCode.Conflict,
      ErrorCode.ContentRefused,
      ErrorCode.QuotaExceeded,
      ErrorCode.InvalidState,
      ErrorCode.Internal,
    ],
  })
  async query(
    @Body() body: z.output<typeof RagQueryBody>,
    @Caller() ctx: RequestContext,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { stream, ...question } = body;
    if (!stream) {
      const answer = await this.rpc.request(RagQuery, question, ctx, {
        timeoutMs: this.timeoutMs,
      });
      await reply.status(200).send(answer);
      return;
    }
    await this.stream(question, ctx, request, reply);
  }

  @Get('usage/reconciliation')
  @Route({
    summary:
      'Tokens estimated before each answer against those the model server counted, per UTC day; a variance above 10 % is flagged',
    permission: { action: 'read', resource: 'Usage' },
    query: ReconciliationQuery,
    response: ReconciliationReport,
  })
  reconciliation(
    @Query() query: z.output<typeof ReconciliationQuery>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(RagUsageReconciliation, query, ctx);
  }

  private async stream(
    question: Omit<z.output<typeof RagQueryBody>, 'stream'>,
    ctx: RequestContext,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    const streamId = randomUUID();
    const pending: AnswerStreamEvent[] = [];
    const sink: { deliver?: (event: AnswerStreamEvent) => void } = {};
    let firstEvent!: () => void;
    const started = new Promise<void>((resolve) => {
      firstEvent = resolve;
    });
    let jobId: string | undefined;
    const sub: Subscription = this.nats.subscribe(
      this.ns.subject(`${RAG_ANSWER_STREAM_PREFIX}.${streamId}`),
      {
        callback: (error, msg) => {
          if (error) return;
          const parsed = AnswerStreamEvent.safeParse(safeJson(msg.data));
          if (!parsed.success) return;
          if (parsed.data.type === 'citations') jobId = parsed.data.jobId;
          if (sink.deliver) sink.deliver(parsed.data);
          else pending.push(parsed.data);
          firstEvent();
        },
      },
    );
    const answer = this.rpc.request(RagQuery, { ...question, streamId }, ctx, {
      timeoutMs: this.timeoutMs,
    });
    try {
      // a refusal before the answer starts is an ordinary problem+json response
      const first = await Promise.race([started.then(() => 'streaming' as const), answer]);
      if (first !== 'streaming') {
        await reply.status(200).send(first);
        return;
      }
    } catch (error) {
      sub.unsubscribe();
      throw error;
    }

    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': `${EVENT_STREAM_CONTENT_TYPE}; charset=utf-8`,
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': String(request.id),
    });
    let seq = 0;
    const write = (event: AnswerStreamEvent) => {
      if (raw.writableEnded) return;
      if (event.type === 'citations')
        raw.write(
          serverSentEvent(
            'citations',
            { queryId: event.queryId, jobId: event.jobId, citations: event.citations },
            seq++,
          ),
        );
      else raw.write(serverSentEvent('delta', { seq: event.seq, text: event.text }, seq++));
    };
    pending.splice(0).forEach(write);
    sink.deliver = write;

    let finished = false;
    raw.on('close', () => {
      if (finished) return;
      finished = true;
      sub.unsubscribe();
      // the caller went away: nobody will read the answer, so its job is cancelled
      if (jobId)
        void this.rpc
          .request(SchedulerJobsCancel, { id: jobId, tenantId: question.tenantId }, ctx)
          .catch((error: unknown) => {
            this.logger.warn(
              { err: error, jobId },
              'could not cancel the job of an abandoned answer',
            );
          });
    });
    try {
      const done = await answer;
      if (!raw.writableEnded)
        raw.write(
          serverSentEvent(
            'done',
            {
              queryId: done.queryId,
              jobId: done.jobId,
              model: done.model,
              finishReason: done.finishReason,
              usage: done.usage,
              citations: done.citations,
              answer: done.answer,
            },
            seq++,
          ),
        );
    } catch (error) {
      if (!raw.writableEnded)
        raw.write(serverSentEvent('error', toProblem(error, request, this.logger), seq++));
    } finally {
      finished = true;
      sub.unsubscribe();
      raw.end();
    }
  }
}

function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}
