import { GpuReading } from '@lattice/contracts';
import { fixture } from '../../test/fixtures';
import { GpuSourceError } from './gpu-source';
import {
  NVIDIA_SMI_BASE_FIELDS,
  NVIDIA_SMI_FIELDS,
  UnknownFieldError,
  normalizeBusId,
  parseNvidiaSmi,
} from './nvidia-smi.parser';

describe('parseNvidiaSmi', () => {
  it('reads V100 16 GB on driver 550: 16384 MiB with 240 reserved, remapped rows N/A', () => {
    const snapshot = parseNvidiaSmi(fixture('nvidia-smi-v100-16gb.csv'), NVIDIA_SMI_FIELDS);
    expect(snapshot).toMatchObject({
      source: 'nvidia-smi',
      host: null,
      driverVersion: '550.127.05',
    });
    expect(snapshot.gpus.map((g) => g.index)).toEqual([0, 1, 2, 4]);
    expect(snapshot.gpus[0]).toEqual({
      uuid: 'GPU-f3bbf1a0-ec50-caa0-d5ab-180afe8207e3',
      index: 0,
      model: 'Tesla V100-SXM2-16GB',
      pciBusId: '00000000:00:04.0',
      totalMiB: 16_384,
      usedMiB: 1,
      freeMiB: 16_145,
      reservedMiB: 240,
      utilizationPercent: 0,
      temperatureC: 37,
      slowdownTemperatureC: null,
      powerWatts: 44.5,
      lastXid: null,
      eccUncorrectable: 0,
      remappedRowsUncorrectable: null,
      rowRemapFailed: null,
      lost: false,
    });
    for (const gpu of snapshot.gpus) expect(GpuReading.safeParse(gpu).success).toBe(true);
  });

  it('reads V100 32 GB on driver 410 with the base fields: 32480 MiB, nothing reserved', () => {
    const snapshot = parseNvidiaSmi(fixture('nvidia-smi-v100-32gb.csv'), NVIDIA_SMI_BASE_FIELDS);
    expect(snapshot.driverVersion).toBe('410.48');
    expect(
      snapshot.gpus.map((g) => [
        g.totalMiB,
        g.usedMiB,
        g.freeMiB,
        g.reservedMiB,
        g.utilizationPercent,
      ]),
    ).toEqual([
      [32_480, 31_194, 1_286, 0, 44],
      [32_480, 30_884, 1_596, 0, 0],
      [32_480, 30_884, 1_596, 0, 0],
    ]);
  });

  it('reports a GPU that is lost with what was last known of it', () => {
    const before = parseNvidiaSmi(fixture('nvidia-smi-v100-32gb.csv'), NVIDIA_SMI_BASE_FIELDS);
    const known = new Map(before.gpus.map((g) => [normalizeBusId(g.pciBusId!), g]));
    const snapshot = parseNvidiaSmi(
      fixture('nvidia-smi-v100-32gb-gpu-lost.csv'),
      NVIDIA_SMI_BASE_FIELDS,
      known,
    );
    expect(snapshot.gpus).toHaveLength(3);
    expect(snapshot.gpus[2]).toMatchObject({
      uuid: 'GPU-0a9f6c3d-8e21-47b5-a4d8-6c3e1b7f9a04',
      index: 2,
      model: 'Tesla V100-PCIE-32GB',
      pciBusId: '00000000:86:00.0',
      totalMiB: 32_480,
      usedMiB: 0,
      temperatureC: null,
      lost: true,
    });
    expect(snapshot.gpus.slice(0, 2).every((g) => !g.lost)).toBe(true);
  });

  it('reports a lost GPU never seen before under its bus id', () => {
    const snapshot = parseNvidiaSmi(
      fixture('nvidia-smi-v100-32gb-gpu-lost.csv'),
      NVIDIA_SMI_BASE_FIELDS,
    );
    expect(snapshot.gpus[2]).toMatchObject({
      uuid: 'unknown-00000000:86:00.0',
      index: 2,
      model: 'unknown',
      lost: true,
    });
    expect(GpuReading.safeParse(snapshot.gpus[2]).success).toBe(true);
  });

  it('reports a GPU that requires a reset as lost, and counts uncorrected ECC errors', () => {
    const snapshot = parseNvidiaSmi(
      fixture('nvidia-smi-v100-32gb-requires-reset.csv'),
      NVIDIA_SMI_BASE_FIELDS,
    );
    expect(snapshot.gpus[0]).toMatchObject({ eccUncorrectable: 2, lost: false });
    expect(snapshot.gpus[1]).toMatchObject({
      uuid: 'GPU-b7d2e4f1-3a68-4c95-8e07-2f9b6d1a4c83',
      totalMiB: 0,
      usedMiB: 0,
      utilizationPercent: null,
      lost: true,
    });
  });

  it('tells a field the driver does not know from a driver that does not answer', () => {
    expect(() =>
      parseNvidiaSmi('Field "memory.reserved" is not a valid field to query.\n', NVIDIA_SMI_FIELDS),
    ).toThrow(UnknownFieldError);
    expect(() =>
      parseNvidiaSmi(
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n",
      ),
    ).toThrow(GpuSourceError);
    expect(parseNvidiaSmi('').gpus).toEqual([]);
  });

  it('names one device the same whatever the width of its domain', () => {
    expect(normalizeBusId('0000:86:00.0')).toBe(normalizeBusId('00000000:86:00.0'));
    expect(normalizeBusId('00000000:3B:00.0')).toBe('00000000:3b:00.0');
  });
});
