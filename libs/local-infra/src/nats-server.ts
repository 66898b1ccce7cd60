import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answers, freePort } from './net';

const CANDIDATES = [
  process.env.NATS_SERVER_BIN,
  'nats-server',
  '/usr/sbin/nats-server',
  '/usr/bin/nats-server',
];

/** Finds the nats-server binary, or explains how to get one. */
export function natsServerBinary(): string {
  for (const candidate of CANDIDATES) {
    if (!candidate) continue;
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  throw new Error(
    'nats-server was not found. Install it (Debian/Ubuntu: `apt-get install nats-server`), ' +
      'point NATS_SERVER_BIN at it, or set NATS_URL to a running NATS server with JetStream.',
  );
}

/** A nats-server with JetStream of our own, on a free port, that a test can stop and restart. */
export class LocalNatsServer {
  private child?: ChildProcess;
  private constructor(
    readonly port: number,
    readonly storeDir: string,
    private readonly temporary: boolean,
  ) {}

  /** Starts on `port` (a free one if omitted), keeping JetStream data in `storeDir` (a temporary one if omitted). */
  static async start(port?: number, storeDir?: string): Promise<LocalNatsServer> {
    const server = new LocalNatsServer(
      port ?? (await freePort()),
      storeDir ?? mkdtempSync(join(tmpdir(), 'lattice-nats-')),
      !storeDir,
    );
    await server.resume();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async resume(): Promise<void> {
    this.child = spawn(
      natsServerBinary(),
      ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir],
      {
        stdio: 'ignore',
      },
    );
    const deadline = Date.now() + 10_000;
    while (!(await answers('127.0.0.1', this.port))) {
      if (Date.now() > deadline) throw new Error(`nats-server did not start on port ${this.port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops the server process; its JetStream store stays for `resume()`. */
  async halt(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  async stop(): Promise<void> {
    await this.halt();
    if (this.temporary) rmSync(this.storeDir, { recursive: true, force: true });
  }
}
