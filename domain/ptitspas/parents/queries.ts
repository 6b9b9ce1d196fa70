import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { NotFound } from '../../errors.js';
import { paginate } from '../../shared/pagination.js';
import { matches, sortKey, sortOf } from '../lists.js';
import type { ParentListOptions } from './model.js';

export const PARENT_NOT_FOUND = 'Parent non trouvé';

const parents = (db: Kysely<Database>) =>
  db
    .selectFrom('ptitspas.parents as p')
    .innerJoin('ptitspas.utilisateurs as u', 'u.id', 'p.id_utilisateur')
    .select(['p.id_utilisateur', 'p.id_co_parent', 'u.email', 'u.prenom', 'u.nom', 'u.telephone', 'u.statut']);

type Row = Awaited<ReturnType<ReturnType<typeof parents>['executeTakeFirstOrThrow']>>;

const shown = ({ id_utilisateur, id_co_parent, ...utilisateur }: Row) => ({
  id_utilisateur,
  id_co_parent,
  utilisateur,
});

/** The parent of account `id`, or NotFound. */
export async function getParent(db: Kysely<Database>, id: string) {
  const row = await parents(db).where('p.id_utilisateur', '=', id).executeTakeFirst();
  if (!row) throw new NotFound(PARENT_NOT_FOUND);
  return shown(row);
}

export async function listParents(db: Kysely<Database>, options: ParentListOptions) {
  let query = parents(db);
  if (options.statut) query = query.where('u.statut', '=', options.statut);
  if (options.search?.trim()) query = query.where(matches('u.recherche', options.search));
  const { column, direction } = sortOf<'cree_le' | 'nom' | 'prenom' | 'email'>(options.sort);
  query = query.orderBy(sortKey(`u.${column}`), direction).orderBy('u.id', direction);
  const { rows, total } = await paginate<Row>(query, options);
  return { rows: rows.map(shown), total };
}
