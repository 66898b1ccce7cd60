import { AuditEvent, type AuditEventInput } from '@lattice/contracts';
import { auditId, auditText, storableAuditEvent } from './audit-sanitiser';

const valid: AuditEventInput = {
  id: '6f1c3d52-3f0a-4a8e-9d0a-1b2c3d4e5f60',
  tenantId: '7a1c3d52-3f0a-4a8e-9d0a-1b2c3d4e5f60',
  occurredAt: '2026-01-01T00:00:00.000Z',
  actor: { type: 'user', id: 'u-1', roles: ['developer'] },
  action: 'tenants.reactivate',
  resource: { type: 'tenants', id: 'abc' },
  outcome: 'error',
  userAgent: 'curl/8',
  requestId: 'req-1',
  metadata: { method: 'POST', status: 400, nested: { list: ['a'] } },
};

describe(storableAuditEvent.name, () => {
  it('leaves a valid event as it is', () => {
    expect(storableAuditEvent(valid)).toEqual(valid);
  });

  it('makes an event carrying hostile text storable, keeping what can be kept', () => {
    const hostile = storableAuditEvent({
      ...valid,
      actor: { type: 'user', id: 'u\u0000', roles: ['dev\ud800'] },
      resource: { type: 'tenants\u0085', id: '\u0000' },
      userAgent: 'agent\u0001'.repeat(100),
      requestId: 'r'.repeat(300),
      subjectId: '\udfff\ud800',
      metadata: { 'k\u0000': 'v\u0000', list: ['\ud83d'], status: 400 },
      personal: ['k\u0000'],
    });
    expect(AuditEvent.safeParse(hostile).success).toBe(true);
    expect(hostile).toMatchObject({
      actor: { id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), roles: ['dev\\ud800'] },
      resource: { type: 'tenants\\u0085', id: expect.stringMatching(/^sha256:/) },
      requestId: expect.stringMatching(/^sha256:/),
      subjectId: expect.stringMatching(/^sha256:/),
      metadata: { 'k\\u0000': 'v\\u0000', list: ['\\ud83d'], status: 400 },
      personal: ['k\\u0000'],
    });
    expect(hostile.userAgent).toHaveLength(512);
    expect(hostile.userAgent).toMatch(/^agent\\u0001agent.*…\[\+\d+\]$/);
  });
});

describe(auditId.name, () => {
  it('hashes the same odd id to the same value, and keeps good ids', () => {
    expect(auditId('\u0000')).toBe(auditId('\u0000'));
    expect(auditId('\u0000')).not.toBe(auditId('\u0001'));
    expect(auditId('a-good-id')).toBe('a-good-id');
    expect(auditId('')).toMatch(/^sha256:/);
  });
});

describe(auditText.name, () => {
  it('cuts long text with a marker of what was cut, never inside a surrogate pair', () => {
    expect(auditText('abcdefghij', 10)).toBe('abcdefghij');
    expect(auditText('x'.repeat(50), 20)).toBe(`${'x'.repeat(14)}…[+30]`);
    const cut = auditText('😀'.repeat(30), 20);
    expect(cut.length).toBeLessThanOrEqual(20);
    expect(AuditEvent.shape.userAgent.safeParse(cut).success).toBe(true);
  });
});
