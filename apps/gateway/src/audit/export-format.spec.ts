import type { AuditEventView } from '@lattice/contracts';
import { CSV_COLUMNS, csvCell, csvHeader, csvLine, ndjsonLine } from './export-format';

const event: AuditEventView = {
  id: '6f1c3d52-3f0a-4a8e-9d0a-1b2c3d4e5f60',
  tenantId: '7f1c3d52-3f0a-4a8e-9d0a-1b2c3d4e5f60',
  seq: 7,
  occurredAt: '2031-01-01T00:00:00.000Z',
  recordedAt: '2031-01-01T00:00:01.000Z',
  actor: { type: 'user', id: null, roles: ['developer', 'ops'] },
  action: 'jobs.create',
  resource: { type: 'Job', id: 'job, "the first"' },
  outcome: 'success',
  sourceIp: null,
  userAgent: '=HYPERLINK("http://evil")',
  requestId: 'r-1',
  traceId: null,
  metadata: { note: 'line one\nline two' },
  erased: ['actor.id', 'sourceIp'],
  hash: 'ab'.repeat(32),
};

/** A minimal RFC 4180 reader, to check what a CSV consumer would get back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (!quoted && c === ',') {
      row.push(cell);
      cell = '';
    } else if (!quoted && c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else {
      cell += c;
    }
  }
  return rows;
}

describe('audit export formats', () => {
  it('writes one JSON object per line for NDJSON', () => {
    const line = ndjsonLine(event);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(line)).toEqual(event);
  });

  it('writes CSV that reads back to the same cells, commas, quotes and newlines included', () => {
    const [header, row] = parseCsv(csvHeader() + csvLine(event));
    expect(header).toEqual([...CSV_COLUMNS]);
    const cells = Object.fromEntries(header!.map((h, i) => [h, row![i]]));
    expect(cells).toMatchObject({
      seq: '7',
      actorId: '',
      actorRoles: 'developer ops',
      resourceId: 'job, "the first"',
      erased: 'actor.id sourceIp',
    });
    expect(JSON.parse(cells.metadata!)).toEqual(event.metadata);
  });

  it('defuses cells a spreadsheet would run as formulas', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell(-2)).toBe('-2');
    expect(csvLine(event)).toContain(`"'=HYPERLINK(""http://evil"")"`);
  });
});
