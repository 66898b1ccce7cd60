import { DataSource } from 'typeorm';
import { createTestDatabase, testPostgresUrl } from '@lattice/testing';
import { copyRows, type CopyValue } from './copy-rows';

/** Rows written with COPY into a real PostgreSQL table and read back. */
describe(copyRows.name, () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase(testPostgresUrl());
    dataSource = await new DataSource({ type: 'postgres', url: database.url }).initialize();
    await dataSource.query(
      `CREATE TABLE copied (n int PRIMARY KEY, label text, doc jsonb, flag boolean)`,
    );
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  const read = async () =>
    (await dataSource.query(`SELECT n, label, doc, flag FROM copied ORDER BY n`)) as {
      n: number;
      label: string | null;
      doc: unknown;
      flag: boolean | null;
    }[];

  it('reads back every value exactly as written: separators, escapes, the text \\N and NULL', async () => {
    await dataSource.query(`TRUNCATE copied`);
    const labels = [
      'plain',
      'tab\there',
      'two\nlines',
      'carriage\rreturn',
      'back\\slash',
      '\\N',
      '\\.',
      '',
      'zoë ✓ 𝄞',
      '\\t is not a tab',
      'ends with a backslash\\',
    ];
    const docs = [{ path: 'C:\\temp\\new', text: 'line\none\ttab "quoted"' }, ['\\N'], null];
    const rows: CopyValue[][] = labels.map((label, i) => [
      i,
      label,
      JSON.stringify(docs[i % docs.length]),
      i % 2 === 0,
    ]);
    rows.push([labels.length, null, null, null]);
    await dataSource.transaction((em) =>
      copyRows(em, 'copied', ['n', 'label', 'doc', 'flag'], rows),
    );
    expect(await read()).toEqual([
      ...labels.map((label, i) => ({
        n: i,
        label,
        doc: docs[i % docs.length],
        flag: i % 2 === 0,
      })),
      { n: labels.length, label: null, doc: null, flag: null },
    ]);
  });

  it('is undone with the transaction it ran in', async () => {
    await dataSource.query(`TRUNCATE copied`);
    await expect(
      dataSource.transaction(async (em) => {
        await copyRows(em, 'copied', ['n', 'label'], [[1, 'kept?']]);
        throw new Error('what followed failed');
      }),
    ).rejects.toThrow('what followed failed');
    expect(await read()).toEqual([]);
  });

  it('fails the transaction on a row the table refuses, and writes none of the rows', async () => {
    await dataSource.query(`TRUNCATE copied`);
    await expect(
      dataSource.transaction((em) =>
        copyRows(
          em,
          'copied',
          ['n', 'label'],
          [
            [1, 'first'],
            [1, 'the same key'],
          ],
        ),
      ),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await read()).toEqual([]);
  });

  it('refuses to run outside a transaction', async () => {
    await expect(copyRows(dataSource.manager, 'copied', ['n'], [[1]])).rejects.toThrow(
      'inside a transaction',
    );
  });
});
