import type { AuditEventView } from '@lattice/contracts';

export const EXPORT_CONTENT_TYPES = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
} as const;

export const CSV_COLUMNS = [
  'seq',
  'id',
  'tenantId',
  'occurredAt',
  'recordedAt',
  'actorType',
  'actorId',
  'actorRoles',
  'action',
  'resourceType',
  'resourceId',
  'outcome',
  'sourceIp',
  'userAgent',
  'requestId',
  'traceId',
  'metadata',
  'erased',
  'hash',
] as const;

/** One event as a line of NDJSON. */
export function ndjsonLine(event: AuditEventView): string {
  return `${JSON.stringify(event)}\n`;
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

/** One event as an RFC 4180 CSV record. */
export function csvLine(event: AuditEventView): string {
  const cells: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    seq: event.seq,
    id: event.id,
    tenantId: event.tenantId,
    occurredAt: event.occurredAt,
    recordedAt: event.recordedAt,
    actorType: event.actor.type,
    actorId: event.actor.id,
    actorRoles: event.actor.roles.join(' '),
    action: event.action,
    resourceType: event.resource.type,
    resourceId: event.resource.id,
    outcome: event.outcome,
    sourceIp: event.sourceIp,
    userAgent: event.userAgent,
    requestId: event.requestId,
    traceId: event.traceId,
    metadata: JSON.stringify(event.metadata),
    erased: event.erased.join(' '),
    hash: event.hash,
  };
  return `${CSV_COLUMNS.map((c) => csvCell(cells[c])).join(',')}\r\n`;
}

/**
 * Quotes what needs quoting, and defuses text a spreadsheet would run as a formula (a cell
 * starting with =, +, -, @, tab or carriage return), since audit data is partly user input.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}
