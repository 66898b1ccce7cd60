import { ConfigError, loadConfig, variable } from './config';
import { integer, seconds } from './numbers';

const spec = {
  BATCH: variable(integer(1, 500, 50), 'Batch size.'),
  WAIT: variable(seconds(30), 'Wait.'),
};

describe('numbers', () => {
  it('takes the fallbacks where unset and coerces what is set', () => {
    expect(loadConfig(spec, {})).toEqual({ BATCH: 50, WAIT: 30 });
    expect(loadConfig(spec, { BATCH: '500', WAIT: '86400' })).toEqual({ BATCH: 500, WAIT: 86_400 });
  });

  it.each([
    ['BATCH', '0'],
    ['BATCH', '2.5'],
    ['WAIT', '0'],
    ['WAIT', '86401'],
  ])('refuses %s=%s, naming it', (name, value) => {
    const load = () => loadConfig(spec, { [name]: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(new RegExp(name));
  });
});
