import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { answers, freePort } from './net';

const FETCH_SCRIPT = 'tools/nats-server/fetch-nats-server.sh';

/** The repository root, from the sources or from their build under dist/. */
function repoRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, FETCH_SCRIPT))) return dir;
    if (dir === dirname(dir)) throw new Error(`${FETCH_SCRIPT} not found above ${__dirname}`);
  }
}

let found: string | undefined;

/**
 * The nats-server to run: NATS_SERVER_BIN if set, else the release production runs, built from
 * its Go module once per machine by tools/nats-server/fetch-nats-server.sh (which falls back to
 * a nats-server on PATH where there is no Go, and says so on stderr). Building takes a few
 * minutes the first time; the script says so before it starts.
 */
export function natsServerBinary(): string {
  if (found) return found;
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv) {
    const probe = spawnSync(fromEnv, ['--version'], { encoding: 'utf8' });
    if (probe.status !== 0)
      throw new Error(
        `NATS_SERVER_BIN=${fromEnv} does not run (${probe.error?.message ?? probe.stderr})`,
      );
    return (found = fromEnv);
  }
  const script = join(repoRoot(), FETCH_SCRIPT);
  const result = spawnSync('bash', [script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const binary = result.stdout?.trim().split('\n').pop();
  if (result.status !== 0 || !binary)
    throw new Error(
      `no nats-server: ${script} failed (exit ${result.status}; its reason is above). ` +
        'Install Go, or nats-server (Debian/Ubuntu: `apt-get install nats-server`), point ' +
        'NATS_SERVER_BIN at one, or set NATS_URL to a running NATS server with JetStream.',
    );
  return (found = binary);
}

/** What `binary --version` says, e.g. "nats-server: v2.15.2". */
export function natsServerVersion(binary: string): string {
  const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return probe.stdout?.trim() || `nats-server (${binary})`;
}

/** A subject rule of nats-server's `permissions` block. */
export interface NatsSubjectRule {
  allow: string[];
  deny?: string[];
}

/** One user of the server and what it may publish and subscribe to. */
export interface NatsUser {
  user: string;
  password: string;
  permissions: {
    publish: NatsSubjectRule;
    subscribe: NatsSubjectRule;
    allow_responses?: boolean;
  };
}

export interface LocalNatsOptions {
  /** Only these users may connect, each with its own rights; unset, anyone may, to anything. */
  users?: readonly NatsUser[];
}

/** A service's rights as `natsPermissionsDocument` (libs/contracts) gives them. */
export interface ServicePermissions {
  service: string;
  publish: NatsSubjectRule;
  subscribe: NatsSubjectRule;
  allow_responses?: boolean;
}

/** nats-server's users: one per service, named after it, with the rights it declares. */
export function natsUsers(
  document: { users: readonly ServicePermissions[] },
  passwords: Readonly<Record<string, string>>,
): NatsUser[] {
  return document.users.map(({ service, ...permissions }) => {
    const password = passwords[service];
    if (!password) throw new Error(`no NATS password for the service ${service}`);
    return { user: service, password, permissions };
  });
}

/**
 * nats-server's configuration (its format reads JSON): the users, where there are any. The
 * port and the JetStream store are given on the command line.
 */
export function natsServerConfig(options: LocalNatsOptions): string {
  return JSON.stringify(options.users ? { authorization: { users: options.users } } : {}, null, 2);
}

/** A nats-server with JetStream of our own, on a free port, that a test can stop and restart. */
export class LocalNatsServer {
  private child?: ChildProcess;
  private constructor(
    readonly port: number,
    readonly storeDir: string,
    private readonly temporary: boolean,
    private readonly configFile: string,
  ) {}

  /**
   * Starts on `port` (a free one if omitted), keeping JetStream data in `storeDir` (a temporary
   * one if omitted), with a user per service where `options.users` lists them.
   */
  static async start(
    port?: number,
    storeDir?: string,
    options: LocalNatsOptions = {},
  ): Promise<LocalNatsServer> {
    const dir = storeDir ?? mkdtempSync(join(tmpdir(), 'lattice-nats-'));
    // beside the store: the passwords it holds are the state folder's, read by its owner only
    const configFile = join(dir, 'nats-server.conf');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(configFile, natsServerConfig(options), { mode: 0o600 });
    const server = new LocalNatsServer(port ?? (await freePort()), dir, !storeDir, configFile);
    await server.resume();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async resume(): Promise<void> {
    this.child = spawn(
      natsServerBinary(),
      [
        '-c',
        this.configFile,
        '-a',
        '127.0.0.1',
        '-p',
        String(this.port),
        '-js',
        '-sd',
        this.storeDir,
      ],
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
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
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
