import { answers } from '@lattice/local-infra';
import { LauncherRun, listenersUnder } from './support/launcher.harness';

jest.setTimeout(300_000);

const SERVICES = ['tenants', 'auth', 'audit', 'gateway'];
/** A service's own lines, as the launcher prints them: its name, padded, then the line. */
const serviceLines = (run: LauncherRun) =>
  run.lines
    .filter((line) => SERVICES.some((service) => line.startsWith(`${service.padEnd(8)} `)))
    .map((line) => line.slice(9));
const isJson = (line: string) => {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
};
/** Nest's start-up lines: a module loaded, a controller's routes, each route mapped. */
const NEST_CHATTER =
  /RoutesResolver|RouterExplorer|InstanceLoader|Mapped \{|dependencies initialized/;

/**
 * `npm start` as a process supervisor: a service that dies is started again, one that keeps
 * dying is given up on loudly; everything it runs listens on this machine only; its log is JSON
 * for a pipe and readable lines for a person.
 */
describe('the launcher, supervising the platform', () => {
  const runs: LauncherRun[] = [];
  afterAll(async () => {
    for (const run of runs) await run.dispose();
  });

  it('restarts a killed service and says so; listens on 127.0.0.1 alone; writes JSON to a pipe', async () => {
    const run = await LauncherRun.start();
    runs.push(run);
    await run.waitFor('Press Ctrl-C to stop.');
    const natsPort = Number((await run.waitFor(/JetStream at nats:\/\/127\.0\.0\.1:(\d+)/))[1]);

    const expectLoopbackOnly = () => {
      const listeners = listenersUnder(run.child.pid!);
      expect(listeners.filter((l) => l.address !== '127.0.0.1')).toEqual([]);
      const ports = new Set(listeners.map((l) => l.port));
      for (const port of [...Object.values(run.ports), natsPort]) expect(ports).toContain(port);
    };
    expectLoopbackOnly();

    // piped, the services write JSON as they always have, and Nest's route mapping is not there
    const lines = serviceLines(run);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((line) => !isJson(line))).toEqual([]);
    expect(lines.filter((line) => NEST_CHATTER.test(line))).toEqual([]);

    const killed = run.pidOf('audit');
    process.kill(killed, 'SIGKILL');
    await run.waitFor(/audit was killed by SIGKILL; restarting it in \d+(\.\d+)? s/);
    await run.waitFor('audit is ready again');
    expect(run.pidOf('audit')).not.toBe(killed);
    const ready = await fetch(`http://127.0.0.1:${run.ports.audit}/readyz`);
    expect(ready.status).toBe(200);
    expectLoopbackOnly();

    expect(await run.stop()).toBe(0);
    // the one restart after the kill; none for services ending while everything stops
    expect(run.lines.filter((line) => line.includes('restarting it'))).toHaveLength(1);
  });

  it('on a terminal, writes readable lines without Nest chatter; gives up on a service that keeps crashing', async () => {
    // a value audit refuses: it exits 78 at every start, naming the variable
    const run = await LauncherRun.start({ LATTICE_LOG_FORMAT: 'pretty', AUDIT_BATCH_SIZE: '0' });
    runs.push(run);

    await run.waitFor(/^tenants +.*tenants service started/m);
    await run.waitFor(
      /audit exited with code 78 \(bad configuration\), 5 crashes within 120 s: giving up on it/,
    );
    expect(await run.exited).toBe(1);

    expect(run.text).toContain('AUDIT_BATCH_SIZE');
    expect(
      run.lines.filter((l) =>
        /audit exited with code 78 \(bad configuration\); restarting it in/.test(l),
      ),
    ).toHaveLength(4);
    expect(run.text).toMatch(/launcher +stopping/);
    const stillAnswering = [];
    for (const [name, port] of Object.entries(run.ports))
      if (await answers('127.0.0.1', port)) stillAnswering.push(name);
    expect(stillAnswering).toEqual([]);

    const lines = serviceLines(run);
    expect(lines.filter((line) => line.includes('tenants service started'))).toHaveLength(1);
    expect(lines.filter((line) => isJson(line))).toEqual([]);
    expect(lines.filter((line) => NEST_CHATTER.test(line))).toEqual([]);
  });
});
