import { GpuReading } from '@lattice/contracts';
import { fixture } from '../../test/fixtures';
import { parseDcgmExporter } from './dcgm-exporter.parser';
import { GpuSourceError } from './gpu-source';

describe('parseDcgmExporter', () => {
  it('reads four V100 16 GB of an older exporter: 16160 MiB each, the Hostname label, an XID 48', () => {
    const snapshot = parseDcgmExporter(fixture('dcgm-exporter-v100-16gb.metrics'));
    expect(snapshot).toMatchObject({
      source: 'dcgm-exporter',
      host: 'gpu-v100-16g-01',
      driverVersion: null,
    });
    expect(
      snapshot.gpus.map((g) => [g.index, g.totalMiB, g.usedMiB, g.freeMiB, g.reservedMiB]),
    ).toEqual([
      [0, 16_160, 10_884, 5_276, 0],
      [1, 16_160, 0, 16_160, 0],
      [2, 16_160, 4_150, 12_010, 0],
      [3, 16_160, 2, 16_158, 0],
    ]);
    expect(snapshot.gpus[0]).toEqual({
      uuid: 'GPU-f3bbf1a0-ec50-caa0-d5ab-180afe8207e3',
      index: 0,
      model: 'Tesla V100-SXM2-16GB',
      pciBusId: '00000000:00:04.0',
      totalMiB: 16_160,
      usedMiB: 10_884,
      freeMiB: 5_276,
      reservedMiB: 0,
      utilizationPercent: 61,
      temperatureC: 37,
      slowdownTemperatureC: null,
      powerWatts: 44.5,
      lastXid: 0,
      eccUncorrectable: null,
      remappedRowsUncorrectable: null,
      rowRemapFailed: null,
      lost: false,
    });
    expect(snapshot.gpus[3]).toMatchObject({ lastXid: 48, lost: false });
    for (const gpu of snapshot.gpus) expect(GpuReading.safeParse(gpu).success).toBe(true);
  });

  it('reads two V100 32 GB of a newer exporter: the hostname label, the driver, reserved memory', () => {
    const snapshot = parseDcgmExporter(fixture('dcgm-exporter-v100-32gb.metrics'));
    expect(snapshot).toMatchObject({ host: 'gpu-v100-32g-01', driverVersion: '535.161.08' });
    expect(snapshot.gpus.map((g) => [g.totalMiB, g.usedMiB, g.freeMiB, g.reservedMiB])).toEqual([
      [32_768, 31_566, 914, 288],
      [32_768, 0, 32_480, 288],
    ]);
    // what a lease may use of an idle card is the 32480 MiB older drivers call the total
    expect(snapshot.gpus[1]!.totalMiB - snapshot.gpus[1]!.reservedMiB).toBe(32_480);
    expect(snapshot.gpus[0]).toMatchObject({
      model: 'Tesla V100-PCIE-32GB',
      pciBusId: '00000000:2F:00.0',
      utilizationPercent: 10,
      temperatureC: 53,
      powerWatts: 47.372,
      rowRemapFailed: null,
      lost: false,
    });
  });

  it('reports a GPU that fell off the bus as lost, keeping its identity and XID 79', () => {
    const snapshot = parseDcgmExporter(fixture('dcgm-exporter-v100-32gb-fell-off-the-bus.metrics'));
    expect(snapshot.gpus).toHaveLength(2);
    expect(snapshot.gpus[0]).toMatchObject({ lost: false, usedMiB: 31_566 });
    expect(snapshot.gpus[1]).toMatchObject({
      uuid: 'GPU-9e4b2d6a-7c15-4f83-b2e9-0a6d8c3f5e17',
      index: 1,
      lastXid: 79,
      lost: true,
      temperatureC: null,
      utilizationPercent: null,
    });
    expect(GpuReading.safeParse(snapshot.gpus[1]).success).toBe(true);
  });

  it('takes the device series of a GPU over its MIG instances and pod copies', () => {
    const labels = (extra: string) =>
      `{gpu="0",UUID="GPU-a",pci_bus_id="00000000:1A:00.0",device="nvidia0",modelName="M"${extra}}`;
    const snapshot = parseDcgmExporter(
      [
        `DCGM_FI_DEV_FB_USED${labels(',GPU_I_PROFILE="1g.10gb",GPU_I_ID="7"')} 3`,
        `DCGM_FI_DEV_FB_USED${labels(',container="c",namespace="n",pod="p"')} 5000`,
        `DCGM_FI_DEV_FB_FREE${labels('')} 1000`,
        `DCGM_FI_DEV_FB_FREE${labels(',GPU_I_PROFILE="1g.10gb",GPU_I_ID="7"')} 9`,
        `DCGM_FI_DEV_ROW_REMAP_FAILURE${labels('')} 1`,
        `DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS${labels('')} 2`,
        `DCGM_FI_DEV_ECC_DBE_VOL_TOTAL${labels('')} 1`,
        `DCGM_FI_DEV_SLOWDOWN_TEMP${labels('')} 87`,
      ].join('\n'),
    );
    expect(snapshot.gpus[0]).toMatchObject({
      usedMiB: 5_000,
      freeMiB: 1_000,
      totalMiB: 6_000,
      rowRemapFailed: true,
      remappedRowsUncorrectable: 2,
      eccUncorrectable: 1,
      slowdownTemperatureC: 87,
    });
  });

  it('finds no GPU in an empty answer and refuses one that is not Prometheus text', () => {
    expect(parseDcgmExporter('').gpus).toEqual([]);
    expect(() => parseDcgmExporter('<html>502 Bad Gateway</html>')).toThrow(GpuSourceError);
  });

  it('skips series without a GPU index or UUID, and values out of range', () => {
    const snapshot = parseDcgmExporter(
      [
        'DCGM_FI_DEV_FB_USED{UUID="GPU-x"} 5',
        'DCGM_FI_DEV_FB_USED{gpu="99",UUID="GPU-y"} 5',
        'DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-z"} 100',
        'DCGM_FI_DEV_FB_FREE{gpu="0",UUID="GPU-z"} 200',
        'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-z"} 140',
        'DCGM_FI_DEV_GPU_TEMP{gpu="0",UUID="GPU-z"} NaN',
      ].join('\n'),
    );
    expect(snapshot.gpus).toHaveLength(1);
    expect(snapshot.gpus[0]).toMatchObject({
      uuid: 'GPU-z',
      utilizationPercent: null,
      temperatureC: null,
      model: 'unknown',
    });
  });
});
