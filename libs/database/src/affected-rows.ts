import type { EntityManager } from 'typeorm';

/** How many rows a DELETE or UPDATE took (TypeORM answers those with `[rows, count]`). */
export async function affectedRows(
  em: EntityManager,
  sql: string,
  parameters: unknown[],
): Promise<number> {
  const [, count]: [unknown, number] = await em.query(sql, parameters);
  return count;
}
