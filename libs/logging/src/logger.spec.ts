import { Writable } from 'node:stream';
import { NestPinoLogger, createLogger, defaultLogFormat, type LogFormat } from './logger';

function capture(format: LogFormat, level = 'info') {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger('tenants', level, format, destination), lines };
}

const isJson = (line: string) => {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
};

describe(createLogger.name, () => {
  it('writes one JSON object per line, with the level by name', () => {
    const { logger, lines } = capture('json');
    logger.info({ tenantId: 't1' }, 'tenant created');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 'info',
      service: 'tenants',
      tenantId: 't1',
      msg: 'tenant created',
    });
  });

  it('writes readable lines for a person, still redacting secrets', () => {
    const { logger, lines } = capture('pretty');
    logger.warn({ context: 'TenantService', tenantId: 't1', password: 'hunter2' }, 'slow query');
    expect(lines).toHaveLength(1);
    expect(isJson(lines[0])).toBe(false);
    expect(lines[0]).toMatch(/WARN.*\[TenantService\] slow query/);
    expect(lines[0]).toContain('t1');
    expect(lines[0]).not.toContain('hunter2');
  });
});

describe(defaultLogFormat.name, () => {
  it('is readable on a terminal and JSON elsewhere, unless LATTICE_LOG_FORMAT says', () => {
    expect(defaultLogFormat({}, true)).toBe('pretty');
    expect(defaultLogFormat({}, false)).toBe('json');
    expect(defaultLogFormat({ LATTICE_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(defaultLogFormat({ LATTICE_LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
  });
});

describe(NestPinoLogger.name, () => {
  it("puts Nest's start-up chatter at debug level and keeps the application's lines at info", () => {
    const { logger, lines } = capture('json');
    const nest = new NestPinoLogger(logger);
    nest.log('Mapped {/v1/tenants, GET} route', 'RouterExplorer');
    nest.log('TenantsController {/v1/tenants}:', 'RoutesResolver');
    nest.log('RuntimeModule dependencies initialized', 'InstanceLoader');
    nest.log('Nest application successfully started', 'NestApplication');
    nest.log('purge ran', 'TenantPurge');
    expect(lines.map((line) => JSON.parse(line) as { msg: string })).toEqual([
      expect.objectContaining({ level: 'info', msg: 'purge ran', context: 'TenantPurge' }),
    ]);

    const verbose = capture('json', 'debug');
    new NestPinoLogger(verbose.logger).log('Mapped {/v1/tenants, GET} route', 'RouterExplorer');
    expect(JSON.parse(verbose.lines[0])).toMatchObject({
      level: 'debug',
      context: 'RouterExplorer',
    });
  });
});
