import { randomUUID } from 'node:crypto';
import { JSONCodec, type NatsConnection } from 'nats';
import pino from 'pino';
import { Registry } from 'prom-client';
import { AuditEvents, AuditStream, type AuditEvent } from '@lattice/contracts';
import { LocalNatsServer, eventually, testNamespace } from '@lattice/testing';
import { AuditRecorder, type AuditRecord } from './audit-recorder';
import { ensureStream, JetStreamPublisher } from './jetstream';
import { SubjectNamespace } from './namespace';
import { connectNats } from './nats-connection';

jest.setTimeout(60_000);

const json = JSONCodec<AuditEvent>();
const logger = pino({ level: 'silent' });
const TENANT = randomUUID();

const event = (action: string): AuditRecord => ({
  tenantId: TENANT,
  actor: { type: 'user', id: 'u-1', roles: ['developer'] },
  action,
  resource: { type: 'Tenant', id: TENANT },
  outcome: 'success',
});

/** A NATS server of this file's own, so the test can take it away from under the recorder. */
describe(AuditRecorder.name, () => {
  let server: LocalNatsServer;
  let nc: NatsConnection;
  let ns: SubjectNamespace;
  let recorder: AuditRecorder;

  /** What the stream holds, each message with the subject it was published on. */
  const storedMessages = async (): Promise<{ subject: string; event: AuditEvent }[]> => {
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(ns.stream(AuditStream.name));
    const messages: { subject: string; event: AuditEvent }[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && seq > 0; seq++) {
      const msg = await jsm.streams.getMessage(ns.stream(AuditStream.name), { seq });
      messages.push({ subject: msg.subject, event: json.decode(msg.data) });
    }
    return messages;
  };
  const stored = async (): Promise<AuditEvent[]> => (await storedMessages()).map((m) => m.event);

  beforeAll(async () => {
    server = await LocalNatsServer.start();
    nc = await connectNats(server.url, 'audit-recorder-test');
    ns = new SubjectNamespace(testNamespace());
    await ensureStream(nc, ns, AuditStream);
  });

  beforeEach(() => {
    recorder = new AuditRecorder(new JetStreamPublisher(nc, ns), { logger });
  });

  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  it('publishes each event once, on its tenant subject, with an id, time and its content', async () => {
    const id = recorder.record(event('tenant.update'))!;
    expect(await recorder.flush()).toBe(true);
    const [first] = (await stored()).filter((e) => e.id === id);
    expect(first).toMatchObject({
      tenantId: TENANT,
      action: 'tenant.update',
      outcome: 'success',
      actor: { type: 'user', id: 'u-1', roles: ['developer'] },
    });
    expect(Date.parse(first!.occurredAt)).not.toBeNaN();
    const subjects = (await storedMessages())
      .filter((m) => m.event.id === id)
      .map((m) => m.subject);
    expect(subjects).toEqual([ns.subject(`${AuditEvents.subject}.${TENANT}`)]);
  });

  it('does not duplicate an event published twice under the same id', async () => {
    const id = randomUUID();
    recorder.record({ ...event('auth.login'), id });
    recorder.record({ ...event('auth.login'), id });
    await recorder.flush();
    expect((await stored()).filter((e) => e.id === id)).toHaveLength(1);
  });

  it('refuses an event outside the contract without throwing at the caller', () => {
    expect(recorder.record({ ...event('Not An Action') })).toBeUndefined();
    expect(
      recorder.record({ ...event('auth.login'), metadata: { blob: 'x'.repeat(10_000) } }),
    ).toBeUndefined();
    expect(recorder.buffered).toBe(0);
  });

  it('records an event carrying hostile text, escaped and hashed instead of dropped', async () => {
    const id = recorder.record({
      ...event('tenants.reactivate'),
      actor: { type: 'anonymous', id: 'anonymous\u0000', roles: [] },
      resource: { type: 'tenants', id: '\u0000' },
      userAgent: '\udfff\ud800',
      metadata: { name: 'a\u0000b' },
    })!;
    expect(id).toBeDefined();
    expect(await recorder.flush()).toBe(true);
    const [kept] = (await stored()).filter((e) => e.id === id);
    expect(kept).toMatchObject({
      action: 'tenants.reactivate',
      actor: { id: expect.stringMatching(/^sha256:/) },
      resource: { type: 'tenants', id: expect.stringMatching(/^sha256:/) },
      userAgent: '\\udfff\\ud800',
      metadata: { name: 'a\\u0000b' },
    });
  });

  it('returns at once while NATS is down, and delivers every event when it is back', async () => {
    await server.halt();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(recorder.record(event('api-key.create'))!);
    expect(recorder.buffered).toBeGreaterThan(0);
    expect(await recorder.flush(300)).toBe(false);
    await server.resume();
    await eventually(async () => expect(recorder.buffered).toBe(0), { timeoutMs: 30_000 });
    await recorder.flush();
    const kept = new Set((await stored()).map((e) => e.id));
    expect(ids.every((id) => kept.has(id))).toBe(true);
  });

  it('drops the oldest events still waiting (not the one being sent), and says so, when its buffer is full', async () => {
    const metrics = new Registry();
    const small = new AuditRecorder(new JetStreamPublisher(nc, ns), {
      logger,
      maxBuffered: 2,
      metrics,
    });
    await server.halt();
    const ids = [1, 2, 3].map(() => small.record(event('role.grant'))!);
    expect(small.dropped).toBe(1);
    const dropped = async () =>
      (await metrics.getSingleMetric('lattice_audit_events_dropped_total')!.get()).values[0]!.value;
    expect(await dropped()).toBe(1);
    // a second recorder of the process counts into the same metric
    const another = new AuditRecorder(new JetStreamPublisher(nc, ns), {
      logger,
      maxBuffered: 1,
      metrics,
    });
    for (let i = 0; i < 3; i++) another.record(event('role.revoke'));
    expect(another.dropped).toBe(1);
    expect(await dropped()).toBe(2);
    await server.resume();
    await eventually(async () => expect(small.buffered).toBe(0), { timeoutMs: 30_000 });
    const kept = new Set((await stored()).map((e) => e.id));
    // the newest is never the one dropped
    expect(ids.filter((id) => kept.has(id))).toHaveLength(2);
    expect(kept.has(ids[2]!)).toBe(true);
    // the first went out at once and is being sent when the buffer fills: the one dropped is
    // the oldest of those still waiting
    expect(kept.has(ids[0]!)).toBe(true);
    expect(kept.has(ids[1]!)).toBe(false);
  });
});
