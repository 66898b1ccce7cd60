import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SCRIPT = resolve(__dirname, '../../../tools/nats-server/fetch-nats-server.sh');

/**
 * tools/nats-server/fetch-nats-server.sh on a machine without Go: a nats-server on PATH stands in
 * (said on stderr), and with none there either it fails saying what to do. PATH holds only a
 * folder of this test's own, so no Go of the machine is found.
 */
describe('fetch-nats-server.sh without Go', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-fetch-nats-'));
  const bin = join(dir, 'bin');
  const cache = join(dir, 'cache');
  mkdirSync(bin);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = () =>
    spawnSync('/bin/bash', [SCRIPT], {
      encoding: 'utf8',
      env: { PATH: bin, HOME: dir, LATTICE_NATS_SERVER_CACHE: cache },
    });

  it('fails naming the ways out when there is no nats-server either', () => {
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('no nats-server on PATH: install Go');
    expect(result.stderr).toContain('NATS_URL');
  });

  it('uses the nats-server on PATH, saying it is not the release it would build', () => {
    const stand = join(bin, 'nats-server');
    writeFileSync(stand, '#!/bin/sh\necho "nats-server: v2.9.10"\n');
    chmodSync(stand, 0o755);
    const result = run();
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(stand);
    expect(result.stderr).toMatch(
      /go is not installed.*using .*nats-server \(nats-server: v2\.9\.10\) instead of v2\.15\.2/,
    );
  });

  it('uses the cached build when there is one', () => {
    const cached = join(cache, 'v2.15.2', 'nats-server');
    mkdirSync(join(cache, 'v2.15.2'), { recursive: true });
    writeFileSync(cached, '#!/bin/sh\necho "nats-server: v2.15.2"\n');
    chmodSync(cached, 0o755);
    const result = run();
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(cached);
  });
});
