import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { NATS_PERMISSIONS_FILE, natsPermissionsFileText } from './nats-authorization';

// run from the repository root: `npm run generate:nats-permissions`
const target = resolve(NATS_PERMISSIONS_FILE);
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, natsPermissionsFileText());
console.log(`wrote ${target}`);
