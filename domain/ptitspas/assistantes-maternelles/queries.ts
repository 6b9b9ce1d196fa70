import { type Kysely, sql } from 'kysely';
import type { Database, PtitsPasRole } from '../../../db/schema.js';
import { NotFound } from '../../errors.js';
import { paginate } from '../../shared/pagination.js';
import type { PtitsPasCaller } from '../caller.js';
import { matches, sortKey, sortOf } from '../lists.js';
import type { AssistanteMaternelleListOptions } from './model.js';
import type { NirCipher } from './nir.js';
import { AM_NOT_FOUND } from './rules.js';

/** Who is shown a childminder's NIR in clear. */
const NIR_READERS: readonly PtitsPasRole[] = ['super_admin', 'gestionnaire'];

const childminders = (db: Kysely<Database>) =>
  db
    .selectFrom('ptitspas.assistantes_maternelles as a')
    .innerJoin('ptitspas.utilisateurs as u', 'u.id', 'a.id_utilisateur');

/** One childminder (NotFound otherwise), the NIR decrypted only for the roles that may read it. */
export async function getAssistanteMaternelle(
  db: Kysely<Database>,
  cipher: NirCipher,
  caller: PtitsPasCaller,
  id: string,
) {
  const row = await childminders(db)
    .selectAll('a')
    .select(['u.email', 'u.prenom', 'u.nom', 'u.telephone', 'u.statut'])
    .where('a.id_utilisateur', '=', id)
    .executeTakeFirst();
  if (!row) throw new NotFound(AM_NOT_FOUND);
  const { email, prenom, nom, telephone, statut, nir_chiffre: blob, nir_cle: keyId, ...profile } = row;
  const nir =
    blob && keyId && NIR_READERS.includes(caller.role) ? cipher.decrypt(blob, keyId, row.id_utilisateur) : null;
  return { ...profile, nir_chiffre: nir, utilisateur: { email, prenom, nom, telephone, statut } };
}

export async function listAssistantesMaternelles(db: Kysely<Database>, options: AssistanteMaternelleListOptions) {
  let query = childminders(db).select([
    'a.id_utilisateur',
    'a.numero_agrement',
    'a.nb_max_enfants',
    'a.place_disponible',
    'a.disponible',
    'a.ville_residence',
    'u.email',
    'u.prenom',
    'u.nom',
  ]);
  if (options.statut) query = query.where('u.statut', '=', options.statut);
  if (options.disponible !== undefined) query = query.where('a.disponible', '=', options.disponible);
  if (options.ville_residence?.trim()) {
    query = query.where(sql`lower(a.ville_residence)`, '=', options.ville_residence.trim().toLowerCase());
  }
  if (options.search?.trim()) query = query.where(matches('u.recherche', options.search));
  const { column, direction } = sortOf<'cree_le' | 'nom' | 'ville_residence' | 'place_disponible'>(options.sort);
  const sortColumn = column === 'cree_le' || column === 'nom' ? (`u.${column}` as const) : (`a.${column}` as const);
  query = query.orderBy(sortKey(sortColumn), direction).orderBy('a.id_utilisateur', direction);
  const { rows, total } = await paginate<Awaited<ReturnType<typeof query.executeTakeFirstOrThrow>>>(query, options);
  return {
    rows: rows.map(({ email, prenom, nom, ...profile }) => ({ ...profile, utilisateur: { email, prenom, nom } })),
    total,
  };
}

/** Which of `numbers` (in upper case) already name a childminder's agreement. */
export async function existingAgrements(db: Kysely<Database>, numbers: readonly string[]): Promise<Set<string>> {
  const { rows } = await sql<{ n: string }>`
    select upper(numero_agrement) as n from ptitspas.assistantes_maternelles
     where upper(numero_agrement) = any(${numbers})`.execute(db);
  return new Set(rows.map((r) => r.n));
}
