import { sql, type SelectQueryBuilder } from 'kysely';

/**
 * One page of `query` (already filtered and ordered) and the total number of matching rows, in one
 * statement: the total rides on each row as `count(*) over ()`. Only a page past the end, which
 * has no row to carry it, costs a second statement.
 */
export async function paginate<Row>(
  query: SelectQueryBuilder<any, any, any>,
  { page, limit }: { page: number; limit: number },
): Promise<{ rows: Row[]; total: number }> {
  const rows = (await query
    .select(sql<number>`count(*) over ()`.as('total_count'))
    .limit(limit)
    .offset((page - 1) * limit)
    .execute()) as Array<Row & { total_count: number }>;
  if (rows.length > 0) return { rows, total: rows[0]!.total_count };
  if (page === 1) return { rows: [], total: 0 };
  const counted = (await query
    .clearSelect()
    .clearOrderBy()
    .select(sql<number>`count(*)`.as('total_count'))
    .executeTakeFirstOrThrow()) as { total_count: number };
  return { rows: [], total: counted.total_count };
}
