import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { RestartPolicy } from './restart-policy';

export interface ServiceSpec {
  name: string;
  /** Built entry point, relative to the repository's dist/ folder. */
  entry: string;
  args?: string[];
  env: Record<string, string>;
  /** Where its /readyz answers once it can take work. */
  readyUrl: string;
}

export type LogSink = (service: string, line: string) => void;

export interface SupervisionOptions {
  policy?: RestartPolicy;
  /** Called once the service has crashed too often to be started again. */
  onGiveUp?: (service: ServiceProcess, reason: string) => void;
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/**
 * One Lattice service as a supervised child process: started, waited for, started again with
 * back-off when it dies on its own (given up on when it keeps dying), and stopped with SIGTERM.
 * What the launcher does about it is said under the 'launcher' name of the log.
 */
export class ServiceProcess {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private startedAt = 0;
  private restartTimer?: NodeJS.Timeout;
  private stopping = false;
  private failure?: Error;
  private readonly policy: RestartPolicy;
  /** The name of the current start, which its health replies echo (LATTICE_INSTANCE_ID). */
  private instance = '';

  constructor(
    readonly spec: ServiceSpec,
    private readonly distDir: string,
    private readonly log: LogSink,
    private readonly supervision: SupervisionOptions = {},
  ) {
    this.policy = supervision.policy ?? new RestartPolicy();
  }

  get name(): string {
    return this.spec.name;
  }

  /** Process id of the running instance, if one runs. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.stopping) return;
    this.instance = `${this.name}-${randomUUID()}`;
    const child = spawn(
      process.execPath,
      ['--enable-source-maps', join(this.distDir, this.spec.entry), ...(this.spec.args ?? [])],
      {
        env: { ...process.env, ...this.spec.env, LATTICE_INSTANCE_ID: this.instance },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    this.startedAt = Date.now();
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        resolve();
        this.onExit(code, signal);
      }),
    );
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) if (line) this.log(this.spec.name, line);
      });
    }
    this.log('launcher', `started ${this.name} (pid ${child.pid})`);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping) return;
    // 78 (EX_CONFIG) is how a service stops on a bad variable, which its own line names
    const how = signal
      ? `was killed by ${signal}`
      : `exited with code ${code}${code === 78 ? ' (bad configuration)' : ''}`;
    const decision = this.policy.crashed(Date.now(), Date.now() - this.startedAt);
    if (!decision.restart) {
      const { windowMs } = this.policy.options;
      const reason =
        `${this.name} ${how}, ${decision.crashes} crashes within ${seconds(windowMs)}: ` +
        `giving up on it (its own lines above say why it stopped)`;
      this.failure = new Error(`${this.name} kept crashing and was given up on`);
      this.log('launcher', reason);
      this.supervision.onGiveUp?.(this, reason);
      return;
    }
    this.log('launcher', `${this.name} ${how}; restarting it in ${seconds(decision.delayMs)}`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.start();
      this.waitReady().then(
        () => this.log('launcher', `${this.name} is ready again`),
        () => undefined, // a crash or stop says so itself
      );
    }, decision.delayMs);
  }

  /**
   * Resolves when /readyz answers 200, through restarts after crashes; rejects when the service
   * is given up on or stopped, or when one start of it is not ready in time.
   */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    let foreign: string | undefined;
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.stopping) throw new Error(`${this.name} was stopped before it was ready`);
      if (this.running) {
        if (Date.now() - this.startedAt > timeoutMs)
          throw new Error(
            `${this.name} was not ready within ${seconds(timeoutMs)} (${this.spec.readyUrl}` +
              `${foreign ? `, where another process answers: ${foreign}` : ''})`,
          );
        try {
          const response = await fetch(this.spec.readyUrl, { signal: AbortSignal.timeout(2_000) });
          const answered = await this.answeredBy(response);
          if (response.ok && answered === this.instance && this.running) return;
          if (answered !== this.instance) foreign = answered;
        } catch {
          // not listening yet
        }
      }
      // between a crash and its restart, the restart decides
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  /**
   * Which process a health reply came from: the instance it names, or the current start's own
   * where it names none (a process whose replies carry no name is taken at its port's word).
   * Another process on the port (say a service of another platform that was handed the same
   * free port) would otherwise pass for this one while this one cannot listen.
   */
  private async answeredBy(response: Response): Promise<string> {
    const body = (await response.json().catch(() => undefined)) as
      { instance?: unknown } | undefined;
    return typeof body?.instance === 'string' ? body.instance : this.instance;
  }

  /** No restarts from now on: the platform is stopping, and a service that exits stays down. */
  holdRestarts(): void {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
  }

  /** SIGTERM, then SIGKILL if it has not drained in time. */
  async stop(graceMs = 15_000): Promise<void> {
    this.holdRestarts();
    const child = this.child;
    if (!child || !this.running) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
