import { commonConfig } from './common.config';
import { ConfigError, loadConfig } from './config';

const spec = {
  LATTICE_BIND_HOST: commonConfig.LATTICE_BIND_HOST,
  LATTICE_LOG_FORMAT: commonConfig.LATTICE_LOG_FORMAT,
};

describe('commonConfig', () => {
  it('listens on all interfaces unless told otherwise, as a container needs', () => {
    expect(loadConfig(spec, {})).toEqual({ LATTICE_BIND_HOST: '0.0.0.0' });
  });

  it.each(['127.0.0.1', '::1', 'localhost', '10.0.0.7'])('takes %s as the bind host', (host) => {
    expect(loadConfig(spec, { LATTICE_BIND_HOST: host }).LATTICE_BIND_HOST).toBe(host);
  });

  it('stops on a bind host or log format that is neither, naming the variable', () => {
    const load = () =>
      loadConfig(spec, { LATTICE_BIND_HOST: 'local host', LATTICE_LOG_FORMAT: 'colour' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/LATTICE_BIND_HOST: must be an IP address or a host name/);
    expect(load).toThrow(/LATTICE_LOG_FORMAT: /);
  });
});
