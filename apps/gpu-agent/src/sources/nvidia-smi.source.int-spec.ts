import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GpuSourceError } from './gpu-source';
import { NvidiaSmiSource } from './nvidia-smi.source';

/**
 * nvidia-smi stood in for by a script that answers as the real one does with the recorded
 * outputs of test/fixtures: refusing fields an old driver does not know, and exiting non-zero
 * when a GPU is lost.
 */
describe(NvidiaSmiSource.name, () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-nvidia-smi-'));
  const fixtures = join(__dirname, '..', '..', 'test', 'fixtures');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function standIn(script: string): string {
    const path = join(dir, `nvidia-smi-${Math.random().toString(36).slice(2)}`);
    writeFileSync(path, `#!/bin/sh\n${script}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  /** An R410 driver: no memory.reserved; GPU 2 answers until `state` says it is lost. */
  const oldDriver = (state: string) =>
    standIn(`case "$1" in
  *memory.reserved*) echo 'Field "memory.reserved" is not a valid field to query.'; exit 2;;
esac
if [ -f "${state}" ]; then cat "${fixtures}/nvidia-smi-v100-32gb-gpu-lost.csv"; exit 15; fi
cat "${fixtures}/nvidia-smi-v100-32gb.csv"`);

  it('falls back to the fields an older driver knows, and keeps a lost GPU under its UUID', async () => {
    const state = join(dir, 'gpu-lost');
    const source = new NvidiaSmiSource(oldDriver(state), 5_000);
    const first = await source.read();
    expect(first.gpus.map((g) => [g.index, g.totalMiB, g.lost])).toEqual([
      [0, 32_480, false],
      [1, 32_480, false],
      [2, 32_480, false],
    ]);

    writeFileSync(state, '');
    const second = await source.read();
    expect(second.gpus[2]).toMatchObject({
      uuid: 'GPU-0a9f6c3d-8e21-47b5-a4d8-6c3e1b7f9a04',
      totalMiB: 32_480,
      lost: true,
    });
  });

  it('reads a current driver with the full field list', async () => {
    const source = new NvidiaSmiSource(
      standIn(`cat "${fixtures}/nvidia-smi-v100-16gb.csv"`),
      5_000,
    );
    const snapshot = await source.read();
    expect(snapshot.gpus.map((g) => g.reservedMiB)).toEqual([240, 240, 240, 240]);
  });

  it('says so when nvidia-smi is missing, fails or hangs', async () => {
    await expect(new NvidiaSmiSource(join(dir, 'absent'), 5_000).read()).rejects.toThrow(
      /nvidia-smi not found/,
    );
    await expect(
      new NvidiaSmiSource(
        standIn(
          `echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."; exit 9`,
        ),
        5_000,
      ).read(),
    ).rejects.toThrow(GpuSourceError);
    await expect(new NvidiaSmiSource(standIn('exec sleep 5'), 200).read()).rejects.toThrow(
      /no answer in time/,
    );
  });
});
