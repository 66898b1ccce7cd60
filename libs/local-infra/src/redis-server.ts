import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { answers, freePort } from './net';

const CANDIDATES = [
  process.env.REDIS_SERVER_BIN,
  'redis-server',
  '/usr/bin/redis-server',
  '/usr/sbin/redis-server',
];

/** The redis-server binary, or undefined when this machine has none. */
export function redisServerBinary(): string | undefined {
  for (const candidate of CANDIDATES) {
    if (!candidate) continue;
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

/** How to get Redis where there is none, for messages that say what was skipped. */
export const REDIS_INSTALL_HINT =
  'install it (Debian/Ubuntu: `apt-get install redis-server`), point REDIS_SERVER_BIN at it, ' +
  'or set REDIS_URL to a running Redis';

/** A throw-away redis-server of our own on a free loopback port, keeping nothing on disk. */
export class LocalRedisServer {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  static async start(binary: string): Promise<LocalRedisServer> {
    const port = await freePort();
    const child = spawn(
      binary,
      ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    const server = new LocalRedisServer(port, child);
    const deadline = Date.now() + 10_000;
    while (!(await answers('127.0.0.1', port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await server.stop();
        throw new Error(`redis-server did not start on port ${port}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}
