import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

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

/** One Lattice service as a child process: started, waited for, and stopped with SIGTERM. */
export class ServiceProcess {
  private child?: ChildProcess;
  private exited?: Promise<number | null>;

  constructor(
    readonly spec: ServiceSpec,
    private readonly distDir: string,
    private readonly log: LogSink,
  ) {}

  start(): void {
    const child = spawn(
      process.execPath,
      ['--enable-source-maps', join(this.distDir, this.spec.entry), ...(this.spec.args ?? [])],
      {
        env: { ...process.env, ...this.spec.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) if (line) this.log(this.spec.name, line);
      });
    }
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves when /readyz answers 200; rejects if the process exits or time runs out. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running)
        throw new Error(
          `${this.spec.name} exited with code ${this.child?.exitCode} before it was ready`,
        );
      try {
        const response = await fetch(this.spec.readyUrl, { signal: AbortSignal.timeout(2_000) });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(
      `${this.spec.name} was not ready within ${timeoutMs / 1000}s (${this.spec.readyUrl})`,
    );
  }

  /** SIGTERM, then SIGKILL if it has not drained in time. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
