/** What every bench prints first: its lines, and the machine it ran on. Figures only. */
import os from 'node:os';

export const say = (line: string) => process.stdout.write(`${line}\n`);

export function sayMachine(): void {
  say(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown cpu'}, node ${process.version}, ${os.platform()} ${os.release()}`,
  );
}
