import { firstValueFrom } from 'rxjs';
import { DataSource } from 'typeorm';
import { ErrorCode, type ErrorPayload } from '@lattice/contracts';
import { createTestDatabase, testPostgresUrl } from '@lattice/testing';
import { RpcErrorFilter } from './rpc-server';

jest.setTimeout(60_000);

/** What a caller over NATS receives for what a handler threw. */
async function payloadOf(error: unknown): Promise<ErrorPayload> {
  try {
    await firstValueFrom(new RpcErrorFilter().catch(error));
  } catch (payload) {
    return payload as ErrorPayload;
  }
  throw new Error('the filter did not fail');
}

/**
 * Real PostgreSQL errors that input causes, as TypeORM throws them, through the RPC boundary:
 * each is the caller's mistake (4xx), and none names the table, constraint or values.
 */
describe(RpcErrorFilter.name, () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase(testPostgresUrl());
    db = await new DataSource({ type: 'postgres', url: database.url }).initialize();
    await db.query(`
      CREATE TABLE secret_parent (id int PRIMARY KEY);
      CREATE TABLE secret_rows (
        tenant_id int NOT NULL,
        email varchar(8) UNIQUE,
        parent int REFERENCES secret_parent (id),
        n smallint CHECK (n >= 0)
      );
      INSERT INTO secret_rows (tenant_id, email) VALUES (1, 'taken@x');`);
  });
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  const failing = async (sql: string, params: unknown[] = []): Promise<unknown> => {
    try {
      await db.query(sql, params);
    } catch (error) {
      return error;
    }
    throw new Error(`expected ${sql} to fail`);
  };

  it.each([
    ['invalid byte sequence', `SELECT $1::text`, ['a\u0000b'], ErrorCode.ValidationFailed],
    ['numeric out of range', `SELECT $1::int`, ['99999999999'], ErrorCode.ValidationFailed],
    ['invalid text representation', `SELECT $1::uuid`, ['not-a-uuid'], ErrorCode.ValidationFailed],
    [
      'string too long',
      `INSERT INTO secret_rows (tenant_id, email) VALUES (2, $1)`,
      ['much-too-long'],
      ErrorCode.ValidationFailed,
    ],
    [
      'unique violation',
      `INSERT INTO secret_rows (tenant_id, email) VALUES (2, $1)`,
      ['taken@x'],
      ErrorCode.Conflict,
    ],
    [
      'foreign key violation',
      `INSERT INTO secret_rows (tenant_id, parent) VALUES (2, $1)`,
      [42],
      ErrorCode.Conflict,
    ],
    [
      'check violation',
      `INSERT INTO secret_rows (tenant_id, n) VALUES (2, $1)`,
      [-1],
      ErrorCode.ValidationFailed,
    ],
    [
      'not-null violation',
      `INSERT INTO secret_rows (tenant_id) VALUES ($1)`,
      [null],
      ErrorCode.ValidationFailed,
    ],
  ] as const)(
    'answers a %s as the caller’s mistake, revealing nothing',
    async (_, sql, params, code) => {
      const payload = await payloadOf(await failing(sql, [...params]));
      expect(payload.code).toBe(code);
      expect(payload.details).toBeUndefined();
      expect(payload.message).not.toMatch(
        /secret|taken|email|tenant_id|constraint|key|\$1|select/i,
      );
    },
  );

  it('still answers an error it does not know as internal, with nothing in it', async () => {
    const payload = await payloadOf(await failing(`SELECT * FROM secret_missing_table`));
    expect(payload).toEqual({ code: ErrorCode.Internal, message: 'internal error' });
    expect(await payloadOf(new Error('at /srv/app.js:1 password=hunter2'))).toEqual({
      code: ErrorCode.Internal,
      message: 'internal error',
    });
  });
});
