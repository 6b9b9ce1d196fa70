import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { NotFound } from '../../errors.js';
import { paginate } from '../../shared/pagination.js';
import type { PtitsPasCaller } from '../caller.js';
import { keptTotal, matches, sortKey, sortOf } from '../lists.js';
import type { Enfant, EnfantListOptions } from './model.js';
import { ENFANT_NOT_FOUND } from './rules.js';
import { isStaff, visibleEnfants } from './visibility.js';

const COLUMNS = [
  'e.id',
  'e.prenom',
  'e.nom',
  'e.genre',
  'e.date_naissance',
  'e.statut',
  'e.consentement_photo',
] as const;

/** The child `id` if `caller` may see it. */
async function findEnfant(db: Kysely<Database>, caller: PtitsPasCaller, id: string): Promise<Enfant | undefined> {
  return visibleEnfants(db, caller).select(COLUMNS).where('e.id', '=', id).executeTakeFirst();
}

/** The child `id`, or NotFound when there is none `caller` may see. */
export async function getEnfant(db: Kysely<Database>, caller: PtitsPasCaller, id: string): Promise<Enfant> {
  const enfant = await findEnfant(db, caller, id);
  if (!enfant) throw new NotFound(ENFANT_NOT_FOUND);
  return enfant;
}

/** A page of the children `caller` may see, and how many match. */
export async function listEnfants(db: Kysely<Database>, caller: PtitsPasCaller, options: EnfantListOptions) {
  let query = visibleEnfants(db, caller).select(COLUMNS);
  if (options.statut) query = query.where('e.statut', '=', options.statut);
  if (options.search?.trim()) query = query.where(matches('e.recherche', options.search));
  const { column, direction } = sortOf<'cree_le' | 'nom' | 'prenom' | 'date_naissance'>(options.sort);
  query = query.orderBy(sortKey(`e.${column}`), direction).orderBy('e.id', direction);
  const whole = isStaff(caller) && !options.statut && !options.search?.trim();
  return paginate<Enfant>(query, options, whole ? keptTotal(db, 'enfants') : undefined);
}
