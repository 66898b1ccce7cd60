import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { AuditVerify, type AuditEvent } from '@lattice/contracts';
import { LocalNatsServer, eventually } from '@lattice/testing';
import {
  auditEvent,
  platformAdmin,
  startAuditTestBed,
  type AuditTestBed,
} from '../../test/audit.test-bed';
import { AuditIngestService } from './audit-ingest.service';

jest.setTimeout(180_000);

const MAIN = resolve(__dirname, '../../../../dist/apps/audit/src/main.js');

/** Publishes events for a few tenants, many at a time. */
async function publishMany(bed: AuditTestBed, tenants: string[], n: number): Promise<AuditEvent[]> {
  const events = Array.from({ length: n }, (_, i) => auditEvent(tenants[i % tenants.length]!));
  for (let i = 0; i < events.length; i += 200) {
    await Promise.all(events.slice(i, i + 200).map((e) => bed.publish(e)));
  }
  return events;
}

/** Every event written exactly once, and every chain intact. */
async function expectEachOnce(bed: AuditTestBed, tenants: string[], sent: AuditEvent[]) {
  const rows: { id: string }[] = await bed.ownerDb.query(
    `SELECT id FROM audit.events WHERE tenant_id = ANY($1::uuid[])`,
    [tenants],
  );
  expect(rows).toHaveLength(sent.length);
  expect(new Set(rows.map((r) => r.id))).toEqual(new Set(sent.map((e) => e.id)));
  for (const tenantId of tenants) {
    expect(
      await bed.rpc.request(AuditVerify, { tenantId }, platformAdmin(), { timeoutMs: 60_000 }),
    ).toMatchObject({ valid: true, headSeq: sent.filter((e) => e.tenantId === tenantId).length });
  }
}

const written = async (bed: AuditTestBed, tenants: string[]): Promise<number> =>
  (
    await bed.ownerDb.query(
      `SELECT count(*)::int AS n FROM audit.events WHERE tenant_id = ANY($1::uuid[])`,
      [tenants],
    )
  )[0].n;

describe(`${AuditIngestService.name} when the service is killed mid-batch`, () => {
  let bed: AuditTestBed;
  const children: ChildProcess[] = [];

  const startProcess = (): ChildProcess => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, ...bed.env, LOG_LEVEL: 'silent' },
      stdio: 'ignore',
    });
    children.push(child);
    return child;
  };
  const exited = (child: ChildProcess) =>
    new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first`);
    // a short ack wait, so what the killed process held is delivered again soon
    bed = await startAuditTestBed({
      env: { AUDIT_ACK_WAIT_SECONDS: '2', AUDIT_BATCH_SIZE: '10' },
    });
    await bed.stopApp();
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await bed?.close();
  });

  it('writes every event once after a SIGKILL and a restart', async () => {
    const tenants = [randomUUID(), randomUUID(), randomUUID()];
    const sent = await publishMany(bed, tenants, 6_000);

    const first = startProcess();
    await eventually(async () => expect(await written(bed, tenants)).toBeGreaterThan(0), {
      timeoutMs: 30_000,
      intervalMs: 20,
    });
    first.kill('SIGKILL');
    await exited(first);
    const atKill = await written(bed, tenants);
    expect(atKill).toBeLessThan(sent.length); // the premise: it died with work in hand

    const second = startProcess();
    await eventually(async () => expect(await written(bed, tenants)).toBe(sent.length), {
      timeoutMs: 120_000,
      intervalMs: 200,
    });
    second.kill('SIGTERM');
    await exited(second);
    expect(second.exitCode).toBe(0);

    await bed.startApp();
    await bed.caughtUp();
    await expectEachOnce(bed, tenants, sent);
  });
});

describe(`${AuditIngestService.name} when NATS restarts`, () => {
  let server: LocalNatsServer;
  let bed: AuditTestBed;

  beforeAll(async () => {
    server = await LocalNatsServer.start();
    // an ack sent while JetStream is still recovering is lost; the event comes again after the
    // ack wait and is recognised as written, so a short wait keeps the test short
    bed = await startAuditTestBed({
      env: { NATS_URL: server.url, AUDIT_BATCH_SIZE: '25', AUDIT_ACK_WAIT_SECONDS: '3' },
    });
  });
  afterAll(async () => {
    await bed?.close();
    await server?.stop();
  });

  it('writes every event once, across a restart in the middle of consuming', async () => {
    const tenants = [randomUUID(), randomUUID()];
    const before = await publishMany(bed, tenants, 3_000);
    await eventually(async () => expect(await written(bed, tenants)).toBeGreaterThan(0), {
      intervalMs: 20,
    });
    await server.halt();
    // the count only grows, so fewer now means fewer when NATS stopped
    const atHalt = await written(bed, tenants);
    await server.resume();
    // the premise: NATS went away in the middle, with events still unwritten
    expect(atHalt).toBeLessThan(before.length);
    // JetStream takes a moment to come back: the first event after it is retried until it lands
    const probe = auditEvent(tenants[0]!);
    await eventually(() => bed.publish(probe), { timeoutMs: 30_000, intervalMs: 250 });
    const after = [probe, ...(await publishMany(bed, tenants, 500))];
    await eventually(
      async () => expect(await written(bed, tenants)).toBe(before.length + after.length),
      { timeoutMs: 90_000, intervalMs: 200 },
    );
    await bed.caughtUp();
    await expectEachOnce(bed, tenants, [...before, ...after]);
  });
});
