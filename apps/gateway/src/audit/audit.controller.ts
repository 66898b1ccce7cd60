import { Body, Controller, Get, Post, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Readable } from 'node:stream';
import {
  AuditConsentsList,
  AuditConsentsRecord,
  AuditEventPage,
  AuditExportPage,
  AuditGdprAccess,
  AuditGdprErase,
  AuditQuery,
  AuditVerify,
  ChainReport,
  ConsentPage,
  ConsentView,
  ExportAuditEventsQuery,
  GdprAccessDocument,
  GdprErasureReport,
  GdprSubjectRequest,
  ListAuditEventsQuery,
  ListConsentsQuery,
  RecordConsentRequest,
  VerifyChainRequest,
  type AuditEventPage as Page,
} from '@lattice/contracts';
import { RpcClient } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { Caller } from '../auth/call-context.decorator';
import { Route } from '../http/route';
import { EXPORT_CONTENT_TYPES, csvHeader, csvLine, ndjsonLine } from './export-format';

const EXPORT_PAGE = 500;
const AUDIT_READER = { action: 'read', resource: 'AuditEvent' } as const;

@ApiTags('audit')
@Controller('v1')
export class AuditController {
  constructor(private readonly rpc: RpcClient) {}

  @Get('audit-events')
  @Route({
    summary: 'Audit events of a tenant, newest first, a page at a time',
    permission: AUDIT_READER,
    query: ListAuditEventsQuery,
    response: AuditEventPage,
  })
  list(@Query() query: z.output<typeof ListAuditEventsQuery>, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuditQuery, query, ctx);
  }

  /**
   * Streams the range page by page: only one page is in memory at a time, and the next is
   * asked for only when the client has taken the last one.
   */
  @Get('audit-events/export')
  @Route({
    summary: 'Export a time range of audit events as NDJSON or CSV, streamed',
    permission: AUDIT_READER,
    query: ExportAuditEventsQuery,
    response: AuditEventPage.shape.items.element,
    produces: [EXPORT_CONTENT_TYPES.ndjson, EXPORT_CONTENT_TYPES.csv],
  })
  async export(
    @Query() query: z.output<typeof ExportAuditEventsQuery>,
    @Caller() ctx: RequestContext,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { format, ...range } = query;
    const fetchPage = (cursor?: string) =>
      this.rpc.request(AuditExportPage, { ...range, limit: EXPORT_PAGE, cursor }, ctx, {
        timeoutMs: 30_000,
      });
    // the first page answers before any byte is sent, so a refusal is still a problem+json
    const first = await fetchPage();
    const line = format === 'csv' ? csvLine : ndjsonLine;
    async function* lines(): AsyncGenerator<string> {
      if (format === 'csv') yield csvHeader();
      let page: Page = first;
      for (;;) {
        yield page.items.map(line).join('');
        if (!page.nextCursor) return;
        page = await fetchPage(page.nextCursor);
      }
    }
    const name = `audit-${range.from.slice(0, 10)}-${range.to.slice(0, 10)}.${format}`;
    await reply
      .status(200)
      .header('content-type', EXPORT_CONTENT_TYPES[format])
      .header('content-disposition', `attachment; filename="${name}"`)
      .send(Readable.from(lines()));
  }

  @Post('audit-events/verify')
  @Route({
    summary: 'Walk a tenant’s hash chain and report the first broken link',
    permission: AUDIT_READER,
    body: VerifyChainRequest,
    response: ChainReport,
  })
  verify(@Body() body: z.output<typeof VerifyChainRequest>, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuditVerify, body, ctx, { timeoutMs: 60_000 });
  }

  @Post('gdpr/subject-access')
  @Route({
    summary: 'Everything every service holds about a data subject, as one document',
    permission: 'authenticated',
    body: GdprSubjectRequest,
    response: GdprAccessDocument,
  })
  subjectAccess(@Body() body: z.output<typeof GdprSubjectRequest>, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuditGdprAccess, body, ctx, { timeoutMs: 30_000 });
  }

  @Post('gdpr/erasure')
  @Route({
    summary: 'Erase a data subject’s personal data in every service',
    permission: 'authenticated',
    body: GdprSubjectRequest,
    response: GdprErasureReport,
  })
  erase(@Body() body: z.output<typeof GdprSubjectRequest>, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuditGdprErase, body, ctx, { timeoutMs: 30_000 });
  }

  @Post('consents')
  @Route({
    summary: 'Record that a user granted or withdrew consent to a purpose',
    permission: 'authenticated',
    body: RecordConsentRequest,
    response: ConsentView,
    status: 201,
  })
  recordConsent(
    @Body() body: z.output<typeof RecordConsentRequest>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(AuditConsentsRecord, body, ctx);
  }

  @Get('consents')
  @Route({
    summary: 'A user’s consent records, oldest first',
    permission: 'authenticated',
    query: ListConsentsQuery,
    response: ConsentPage,
  })
  listConsents(@Query() query: z.output<typeof ListConsentsQuery>, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuditConsentsList, query, ctx);
  }
}
