import { Type } from '@sinclair/typebox';
import { type Expression, type Kysely, type SqlBool, sql } from 'kysely';
import { containing } from '../../db/like.js';
import type { Database } from '../../db/schema.js';
import { StringEnum } from '../shared/schemas.js';

/** `page` and `limit` of every PtitsPas list (the options of the list functions; the API's query strings). */
export const Page = {
  page: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 1 }),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
};

/** `sort`: one of `fields`, `-` in front for descending. */
export const Sort = <const T extends readonly string[]>(fields: T, fallback: string) =>
  StringEnum([...fields, ...fields.map((f) => `-${f}`)] as string[], {
    default: fallback,
    description: 'Champ de tri, `-` devant pour l’ordre décroissant',
  });

export const Search = Type.String({ maxLength: 100, description: 'Sans tenir compte des accents ni de la casse' });

/** `column like %search%`, the search folded (lower case, no accents) like the column, a `recherche`. */
export const matches = (column: string, search: string): Expression<SqlBool> =>
  sql<SqlBool>`${sql.ref(column)} like ${containing(search.trim(), 'ptitspas')}`;

const TEXT_COLUMNS = new Set(['nom', 'prenom', 'email', 'ville_residence']);

/** What to order by for `column`: names in alphabetical order (migration 0011's collation), not byte order. */
export const sortKey = (column: string) =>
  TEXT_COLUMNS.has(column.split('.').pop()!) ? sql`${sql.ref(column)} collate ptitspas.alphabetique` : sql.ref(column);

/** The column and direction a `sort` value names. */
export function sortOf<C extends string>(sort: string): { column: C; direction: 'asc' | 'desc' } {
  return sort.startsWith('-')
    ? { column: sort.slice(1) as C, direction: 'desc' }
    : { column: sort as C, direction: 'asc' };
}

/** How many rows `table` has, kept by triggers (migration 0026): the total of a staff's whole list. */
export const keptTotal = (db: Kysely<Database>, table: 'enfants' | 'dossiers') =>
  db
    .selectFrom('ptitspas.row_counts')
    .select(sql<number>`coalesce(max(total), 0)`.as('n'))
    .where('table_name', '=', table);
