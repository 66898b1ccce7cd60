import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A recorded (or composed, see fixtures/README.md) output of the DCGM exporter or nvidia-smi. */
export function fixture(name: string): string {
  return readFileSync(join(__dirname, 'fixtures', name), 'utf8');
}
