import { type RawBuilder, sql } from 'kysely';

/** The schema whose `fold(text)` (lower case, no accents: migrations 0009 and 0010) a search uses. */
export type FoldingSchema = 'medreport' | 'ptitspas';

/**
 * `text` as a LIKE pattern that matches itself only: a backslash before LIKE's escape character
 * and its wildcards (`\`, `%`, `_`). With `fold`, the text is folded first and escaped after,
 * since folding turns the fullwidth `％ ＿ ＼` into `% _ \`: escaped before, they would become
 * live wildcards. The escaping happens in SQL so nothing sits between the fold and it.
 */
export function likeLiteral(text: string, fold?: FoldingSchema): RawBuilder<string> {
  const source = fold ? sql<string>`${sql.id(fold, 'fold')}(${text})` : sql<string>`${text}::text`;
  return sql<string>`regexp_replace(${source}, ${sql.raw(String.raw`'([\\%_])', '\\\1', 'g'`)})`;
}

/** The LIKE pattern of every text containing `search` literally, folded first with `fold`'s function. */
export function containing(search: string, fold?: FoldingSchema): RawBuilder<string> {
  return sql<string>`'%' || ${likeLiteral(search, fold)} || '%'`;
}
