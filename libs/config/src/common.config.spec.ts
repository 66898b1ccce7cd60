import { generateKeyPairSync } from 'node:crypto';
import { newContextKeySet } from '@lattice/request-context';
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

describe('the request-context keys in commonConfig', () => {
  const keys = {
    LATTICE_CONTEXT_KEY: commonConfig.LATTICE_CONTEXT_KEY,
    LATTICE_CONTEXT_PUBLIC_KEYS: commonConfig.LATTICE_CONTEXT_PUBLIC_KEYS,
  };

  it('stops on a key that is not Ed25519 or a JWKS without keys, naming each variable', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const load = () =>
      loadConfig(keys, { LATTICE_CONTEXT_KEY: rsa, LATTICE_CONTEXT_PUBLIC_KEYS: '{"keys":[]}' });
    expect(load).toThrow(/LATTICE_CONTEXT_KEY: the context key must be an Ed25519 key, not rsa/);
    expect(load).toThrow(/LATTICE_CONTEXT_PUBLIC_KEYS: a JWKS with at least one key/);
    // a private key is never echoed back
    expect(load).not.toThrow(/BEGIN PRIVATE KEY/);
  });

  it('takes a service key set as npm start generates it', () => {
    const set = newContextKeySet(['gateway']);
    const config = loadConfig(keys, {
      LATTICE_CONTEXT_KEY: set.privateKeys.gateway,
      LATTICE_CONTEXT_PUBLIC_KEYS: set.publicKeys,
    });
    expect(config.LATTICE_CONTEXT_PUBLIC_KEYS).toBe(set.publicKeys);
  });
});
