import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@lattice/local-infra';
import { eventually } from '@lattice/testing';
import { RestartPolicy } from './restart-policy';
import { ServiceProcess } from './service-process';

jest.setTimeout(60_000);

/**
 * A stand-in service: answers /readyz naming its instance as the services do, or exits at once
 * with CRASH_CODE when that is set, or never listens when HANG is set. One that cannot listen
 * (its port taken) fails as Node does.
 */
const SERVICE = `
const code = process.env.CRASH_CODE;
if (code) process.exit(Number(code));
if (process.env.HANG) setInterval(() => undefined, 1000);
else
  require('node:http')
    .createServer((_req, res) => res.end(JSON.stringify({ status: 'ok', instance: process.env.LATTICE_INSTANCE_ID })))
    .listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => process.exit(0));
`;

/** Another process answering health checks on `port` as a service of another platform would. */
async function squatter(port: number): Promise<Server> {
  const server = createServer((_req, res) =>
    res.end(JSON.stringify({ service: 'rag', instance: 'rag-of-another-platform', status: 'ok' })),
  );
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

describe(ServiceProcess.name, () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-service-process-'));
  writeFileSync(join(dir, 'service.js'), SERVICE);
  const running: ServiceProcess[] = [];
  afterAll(async () => {
    for (const service of running) await service.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function supervised(env: Record<string, string> = {}, port?: number) {
    port ??= await freePort();
    const lines: string[] = [];
    const givenUp: string[] = [];
    const service = new ServiceProcess(
      {
        name: 'stand-in',
        entry: 'service.js',
        env: { PORT: String(port), ...env },
        readyUrl: `http://127.0.0.1:${port}/readyz`,
      },
      dir,
      (name, line) => lines.push(`${name} ${line}`),
      {
        policy: new RestartPolicy({
          initialDelayMs: 50,
          maxDelayMs: 200,
          stableAfterMs: 30_000,
          maxCrashes: 3,
          windowMs: 60_000,
        }),
        onGiveUp: (_service, reason) => givenUp.push(reason),
      },
    );
    running.push(service);
    return { service, lines, givenUp };
  }

  it('starts a killed service again, and says so', async () => {
    const { service, lines } = await supervised();
    service.start();
    await service.waitReady();
    const first = service.pid!;
    process.kill(first, 'SIGKILL');

    await eventually(() => expect(lines).toContain('launcher stand-in is ready again'));
    expect(service.pid).toBeDefined();
    expect(service.pid).not.toBe(first);
    expect(lines).toContain('launcher stand-in was killed by SIGKILL; restarting it in 0.1 s');
    await service.waitReady();
  });

  it('gives up on a service that keeps crashing, naming how it ended', async () => {
    const { service, lines, givenUp } = await supervised({ CRASH_CODE: '78' });
    service.start();
    await expect(service.waitReady()).rejects.toThrow('stand-in kept crashing and was given up on');
    const restarts = lines.filter((l) => l.includes('restarting it'));
    expect(restarts).toEqual([
      'launcher stand-in exited with code 78 (bad configuration); restarting it in 0.1 s',
      'launcher stand-in exited with code 78 (bad configuration); restarting it in 0.1 s',
    ]);
    expect(givenUp).toEqual([
      'stand-in exited with code 78 (bad configuration), 3 crashes within 60 s: ' +
        'giving up on it (its own lines above say why it stopped)',
    ]);
    expect(service.running).toBe(false);
  });

  it('does not start again a service that exits while the platform stops', async () => {
    const { service, lines } = await supervised();
    service.start();
    await service.waitReady();
    service.holdRestarts();
    process.kill(service.pid!, 'SIGKILL');
    // the decision to restart is taken, and said, as the exit is seen
    await eventually(() => expect(service.running).toBe(false));
    expect(lines.some((l) => l.includes('restarting'))).toBe(false);
    await expect(service.waitReady()).rejects.toThrow('stand-in was stopped before it was ready');
  });

  it('does not take another process answering on its port for its own start', async () => {
    const port = await freePort();
    const other = await squatter(port);
    try {
      const { service, lines } = await supervised({}, port);
      service.start();
      // it cannot listen, so it keeps crashing, however healthy the port's answers look
      await expect(service.waitReady()).rejects.toThrow(
        'stand-in kept crashing and was given up on',
      );
      expect(lines.some((l) => l.includes('EADDRINUSE'))).toBe(true);
    } finally {
      other.close();
    }
  });

  it('names the process that answers in its place when its own start is not ready in time', async () => {
    const port = await freePort();
    const other = await squatter(port);
    try {
      const { service } = await supervised({ HANG: '1' }, port);
      service.start();
      await expect(service.waitReady(1_500)).rejects.toThrow(
        `stand-in was not ready within 1.5 s (http://127.0.0.1:${port}/readyz, ` +
          'where another process answers: rag-of-another-platform)',
      );
    } finally {
      other.close();
    }
  });
});
