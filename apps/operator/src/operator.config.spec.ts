import { ConfigError, loadConfig } from '@lattice/config';
import { testContextEnv } from '@lattice/testing';
import { operatorConfigSpec } from './operator.config';

const base = { LATTICE_INTERNAL_SECRET: 'x'.repeat(32), ...testContextEnv('operator') };

describe('operator configuration', () => {
  it('reads the Prometheus allowlist, first entry the default, in one spelling', () => {
    const config = loadConfig(operatorConfigSpec, {
      ...base,
      OPERATOR_PROMETHEUS_URLS:
        ' http://Prometheus.monitoring:9090/ , https://thanos.example/query',
    });
    expect(config.OPERATOR_PROMETHEUS_URLS).toEqual([
      'http://prometheus.monitoring:9090',
      'https://thanos.example/query',
    ]);
    expect(loadConfig(operatorConfigSpec, base).OPERATOR_PROMETHEUS_URLS).toEqual([]);
  });

  it('stops start-up naming the variable when an entry is not an http(s) URL', () => {
    expect(() =>
      loadConfig(operatorConfigSpec, {
        ...base,
        OPERATOR_PROMETHEUS_URLS: 'http://ok:9090,ftp://nope',
      }),
    ).toThrow(ConfigError);
    expect(() =>
      loadConfig(operatorConfigSpec, { ...base, OPERATOR_PROMETHEUS_URLS: 'ftp://nope' }),
    ).toThrow(/OPERATOR_PROMETHEUS_URLS: ftp:\/\/nope is not an http\(s\) URL/);
  });
});
