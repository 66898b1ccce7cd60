import { DomainError, ErrorCode, domainErrorOfDatabase } from './errors';

describe(domainErrorOfDatabase.name, () => {
  it('reads the SQLSTATE of the driver error, or of the error itself', () => {
    const unique = { code: '23505', detail: 'Key (tenant_id, slug)=(t, acme) already exists.' };
    const wrapped = Object.assign(new Error('duplicate key'), { driverError: unique });
    expect(domainErrorOfDatabase(wrapped)).toEqual(
      new DomainError(ErrorCode.Conflict, 'a record with these values already exists'),
    );
    expect(domainErrorOfDatabase(unique)?.code).toBe(ErrorCode.Conflict);
    expect(domainErrorOfDatabase({ code: '22021' })?.code).toBe(ErrorCode.ValidationFailed);
  });

  it('answers a transaction undone by a concurrent one as unavailable for now, to send again', () => {
    for (const code of ['40001', '40P01']) {
      const error = Object.assign(new Error('deadlock detected'), { driverError: { code } });
      expect(domainErrorOfDatabase(error)?.code).toBe(ErrorCode.Unavailable);
    }
  });

  it('leaves every other error alone', () => {
    for (const error of [new Error('boom'), { code: 'EPIPE' }, { code: '42P01' }, null, 'x'])
      expect(domainErrorOfDatabase(error)).toBeUndefined();
  });
});
