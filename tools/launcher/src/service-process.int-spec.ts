import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@lattice/local-infra';
import { eventually } from '@lattice/testing';
import { RestartPolicy } from './restart-policy';
import { ServiceProcess } from './service-process';

jest.setTimeout(60_000);

/** A stand-in service: answers /readyz, or exits at once with CRASH_CODE when that is set. */
const SERVICE = `
const code = process.env.CRASH_CODE;
if (code) process.exit(Number(code));
require('node:http')
  .createServer((_req, res) => res.end('ok'))
  .listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => process.exit(0));
`;

describe(ServiceProcess.name, () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-service-process-'));
  writeFileSync(join(dir, 'service.js'), SERVICE);
  const running: ServiceProcess[] = [];
  afterAll(async () => {
    for (const service of running) await service.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function supervised(env: Record<string, string> = {}) {
    const port = await freePort();
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
});
