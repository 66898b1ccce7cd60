import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '@lattice/local-infra';

const LAUNCHER = resolve(__dirname, '../../dist/tools/launcher/src/main.js');

export type LauncherPorts = Record<
  'postgres' | 'gateway' | 'tenants' | 'auth' | 'audit' | 'scheduler' | 'gpuNodes',
  number
>;

/** `npm start` as a user runs it, on free ports and a state directory of its own. */
export class LauncherRun {
  private output = '';
  readonly exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly ports: LauncherPorts,
    private readonly stateDir: string,
  ) {
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
    for (const stream of [child.stdout!, child.stderr!])
      stream.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
  }

  static async start(env: Record<string, string> = {}): Promise<LauncherRun> {
    const stateDir = mkdtempSync(join(tmpdir(), 'lattice-launcher-'));
    // as root, embedded PostgreSQL runs as another user, who must reach its data (mkdtemp is 0700)
    chmodSync(stateDir, 0o755);
    const ports = {} as LauncherPorts;
    for (const name of [
      'postgres',
      'gateway',
      'tenants',
      'auth',
      'audit',
      'scheduler',
      'gpuNodes',
    ] as const)
      ports[name] = await freePort();
    const inherited = { ...process.env };
    for (const name of ['DATABASE_URL', 'NATS_URL', 'REDIS_URL', 'LATTICE_LOG_FORMAT'])
      delete inherited[name];
    const child = spawn(process.execPath, [LAUNCHER], {
      env: {
        ...inherited,
        LATTICE_STATE_DIR: stateDir,
        LATTICE_POSTGRES_PORT: String(ports.postgres),
        GATEWAY_PORT: String(ports.gateway),
        TENANTS_HTTP_PORT: String(ports.tenants),
        AUTH_HTTP_PORT: String(ports.auth),
        AUDIT_HTTP_PORT: String(ports.audit),
        SCHEDULER_HTTP_PORT: String(ports.scheduler),
        GPU_NODES_HTTP_PORT: String(ports.gpuNodes),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new LauncherRun(child, ports, stateDir);
  }

  /** Everything it wrote so far, colour codes removed. */
  get text(): string {
    // eslint-disable-next-line no-control-regex
    return this.output.replace(/\x1b\[[0-9;]*m/g, '');
  }

  get lines(): string[] {
    return this.text.split('\n').filter(Boolean);
  }

  /** Waits until its output matches, failing with the output if it exits first. */
  async waitFor(pattern: string | RegExp, timeoutMs = 180_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    const find = () =>
      typeof pattern === 'string'
        ? this.text.includes(pattern)
          ? ([pattern] as RegExpMatchArray)
          : null
        : this.text.match(pattern);
    for (;;) {
      const found = find();
      if (found) return found;
      if (this.child.exitCode !== null || Date.now() > deadline)
        throw new Error(`the launcher never said ${String(pattern)}:\n${this.text}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** The pid of the running instance of a service, as the launcher last announced it. */
  pidOf(service: string): number {
    const started = [...this.text.matchAll(new RegExp(`started ${service} \\(pid (\\d+)\\)`, 'g'))];
    if (started.length === 0) throw new Error(`the launcher never started ${service}`);
    return Number(started[started.length - 1][1]);
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  /** For afterAll: whatever happened, nothing of this run stays. */
  async dispose(): Promise<void> {
    if (this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}

export interface Listener {
  pid: number;
  command: string;
  address: string;
  port: number;
}

/** `pid` and every process below it, from /proc. */
function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // the command may hold spaces and parentheses: the fields after the last ')' are fixed
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(parents.get(tree[i]) ?? []));
  return tree;
}

/** The address in /proc/net/tcp{,6}: 32-bit words in host (little-endian) order. */
function decodeAddress(hex: string): string {
  const bytes = hex.match(/.{8}/g)!.flatMap((word) => word.match(/../g)!.reverse());
  const octets = bytes.map((b) => parseInt(b, 16));
  if (octets.length === 4) return octets.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((octets[i] << 8) | octets[i + 1]).toString(16));
  // the longest run of zero groups becomes '::'
  let best = { at: -1, length: 0 };
  for (let at = 0; at < 8; at++) {
    let length = 0;
    while (at + length < 8 && groups[at + length] === '0') length++;
    if (length > best.length) best = { at, length };
  }
  if (best.length < 2) return groups.join(':');
  const head = groups.slice(0, best.at).join(':');
  const tail = groups.slice(best.at + best.length).join(':');
  return `${head}::${tail}`;
}

/** Every TCP socket listening in a process of the tree under `pid`, IPv4 and IPv6. */
export function listenersUnder(pid: number): Listener[] {
  const owners = new Map<string, { pid: number; command: string }>();
  for (const member of processTree(pid)) {
    try {
      const command = readFileSync(`/proc/${member}/comm`, 'utf8').trim();
      for (const fd of readdirSync(`/proc/${member}/fd`)) {
        const target = readlinkSync(`/proc/${member}/fd/${fd}`, 'utf8');
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode) owners.set(inode, { pid: member, command });
      }
    } catch {
      // gone meanwhile
    }
  }
  const listeners: Listener[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const row of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = row.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== '0A') continue; // 0A: LISTEN
      const owner = owners.get(fields[9]);
      if (!owner) continue;
      const [address, port] = fields[1].split(':');
      listeners.push({ ...owner, address: decodeAddress(address), port: parseInt(port, 16) });
    }
  }
  return listeners;
}
