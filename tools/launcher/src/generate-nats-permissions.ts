import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { NATS_PERMISSIONS_FILE, natsPermissionsFileText } from './nats-authorization';

// run from the repository root: `npm run generate:nats-permissions`
async function main(): Promise<void> {
  const target = resolve(NATS_PERMISSIONS_FILE);
  mkdirSync(dirname(target), { recursive: true });
  const options = (await resolveConfig(target)) ?? {};
  writeFileSync(target, await format(natsPermissionsFileText(), { ...options, filepath: target }));
  console.log(`wrote ${target}`);
}

void main();
