import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const BUILT = resolve(__dirname, '../../../dist/libs/logging/src/index.js');

/** Runs `script` in a process of its own with the built logger as `createLogger`. */
function run(script: string): Promise<{ code: number | null; lines: string[] }> {
  const child = spawn(
    process.execPath,
    ['-e', `const { createLogger } = require(${JSON.stringify(BUILT)});\n${script}`],
    { env: { ...process.env, LATTICE_LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((done) =>
    child.on('close', (code) =>
      done({ code, lines: Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean) }),
    ),
  );
}

/** What a service's log on standard output keeps, as a process of its own writes it. */
(existsSync(BUILT) ? describe : describe.skip)('createLogger on standard output', () => {
  it('loses no line written just before the process exits, whole and in order', async () => {
    const { code, lines } = await run(`
      const logger = createLogger('exit-test', 'info');
      for (let i = 0; i < 5000; i++) logger.info({ i }, 'line');
      logger.fatal('stopping');
      process.exit(3);
    `);
    expect(code).toBe(3);
    expect(lines).toHaveLength(5001);
    const parsed = lines.map((line) => JSON.parse(line) as { i?: number; msg: string });
    expect(parsed.slice(0, 5000).map((l) => l.i)).toEqual([...Array(5000).keys()]);
    expect(parsed[5000]).toMatchObject({ level: 'fatal', msg: 'stopping' });
  });

  it('loses no line written before an uncaught error ends the process', async () => {
    const { code, lines } = await run(`
      const logger = createLogger('crash-test', 'info');
      for (let i = 0; i < 100; i++) logger.info({ i }, 'line');
      logger.error('about to fail');
      setImmediate(() => { throw new Error('boom'); });
    `);
    expect(code).toBe(1);
    expect(lines).toHaveLength(101);
    expect(JSON.parse(lines[100]!)).toMatchObject({ level: 'error', msg: 'about to fail' });
  });

  it('writes a lone line while the process runs, without waiting for more to fill a buffer', async () => {
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const { createLogger } = require(${JSON.stringify(BUILT)});
         createLogger('lone-test', 'info').info('alone');
         setInterval(() => undefined, 1_000);`,
      ],
      { env: { ...process.env, LATTICE_LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      // the process never exits on its own: the line can only come from a write made at once
      const line = await new Promise<string>((done) => {
        let seen = '';
        child.stdout.on('data', (chunk: Buffer) => {
          seen += chunk.toString('utf8');
          if (seen.includes('\n')) done(seen.split('\n')[0]!);
        });
      });
      expect(JSON.parse(line)).toMatchObject({ service: 'lone-test', msg: 'alone' });
    } finally {
      child.kill('SIGKILL');
    }
  });
});
