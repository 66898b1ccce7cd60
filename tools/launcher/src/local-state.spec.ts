import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICE_NAMES } from '@lattice/contracts';
import { ContextSigner, contextPublicKeys, serviceContext } from '@lattice/request-context';
import { loadOrCreateSecrets } from './local-state';

describe(loadOrCreateSecrets.name, () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'lattice-state-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives every declared service a context key and a NATS password, kept across starts', () => {
    const first = loadOrCreateSecrets(dir);
    expect(Object.keys(first.contextKeys).sort()).toEqual([...SERVICE_NAMES].sort());
    expect(Object.keys(first.natsPasswords).sort()).toEqual([...SERVICE_NAMES].sort());
    expect(new Set(Object.values(first.natsPasswords)).size).toBe(SERVICE_NAMES.length);
    expect(statSync(join(dir, 'secrets.json')).mode & 0o777).toBe(0o600);
    expect(loadOrCreateSecrets(dir)).toEqual(first);

    // each key signs for its own service, verified against the public keys derived from all
    const publicKeys = contextPublicKeys(first.contextKeys);
    const scheduler = ContextSigner.fromConfig('scheduler', {
      LATTICE_CONTEXT_KEY: first.contextKeys.scheduler,
      LATTICE_CONTEXT_PUBLIC_KEYS: publicKeys,
    });
    return expect(
      scheduler.sign(serviceContext('scheduler')).then((t) => scheduler.verify(t)),
    ).resolves.toMatchObject({ actor: { id: 'scheduler' } });
  });

  it('adds a key and a password for a service declared since, keeping the others', () => {
    const first = loadOrCreateSecrets(dir);
    const file = join(dir, 'secrets.json');
    const kept = JSON.parse(readFileSync(file, 'utf8')) as typeof first;
    delete kept.contextKeys.gateway;
    delete kept.natsPasswords.gateway;
    writeFileSync(file, JSON.stringify(kept));
    const next = loadOrCreateSecrets(dir);
    expect(next.contextKeys.gateway).toBeDefined();
    expect(next.contextKeys.gateway).not.toBe(first.contextKeys.gateway);
    expect(next.contextKeys.tenants).toBe(first.contextKeys.tenants);
    expect(next.natsPasswords.tenants).toBe(first.natsPasswords.tenants);
  });
});
