import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  NATS_PERMISSIONS_FILE,
  natsPermissionsFileText,
  platformNatsPermissions,
} from './nats-authorization';

describe('the NATS permissions the chart installs', () => {
  it('are what the access declarations derive (run `npm run generate:nats-permissions`)', () => {
    const kept: unknown = JSON.parse(
      readFileSync(join(__dirname, '../../..', NATS_PERMISSIONS_FILE), 'utf8'),
    );
    expect(kept).toEqual(JSON.parse(natsPermissionsFileText()));
  });

  it('name each service once, as its NATS user', () => {
    const services = platformNatsPermissions().users.map((u) => u.service);
    expect(new Set(services).size).toBe(services.length);
    expect(services).toEqual(expect.arrayContaining(['gateway', 'tenants', 'auth', 'audit']));
  });
});
