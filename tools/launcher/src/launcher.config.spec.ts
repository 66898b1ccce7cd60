import { loadConfig } from '@lattice/config';
import { launcherConfigSpec } from './launcher.config';

describe('launcherConfigSpec', () => {
  it('keeps npm start on this machine unless LATTICE_BIND_HOST says otherwise', () => {
    expect(loadConfig(launcherConfigSpec, {}).LATTICE_BIND_HOST).toBe('127.0.0.1');
    expect(loadConfig(launcherConfigSpec, { LATTICE_BIND_HOST: '0.0.0.0' }).LATTICE_BIND_HOST).toBe(
      '0.0.0.0',
    );
  });

  it('names a port that is not one', () => {
    expect(() => loadConfig(launcherConfigSpec, { GATEWAY_PORT: 'http' })).toThrow(/GATEWAY_PORT/);
  });
});
