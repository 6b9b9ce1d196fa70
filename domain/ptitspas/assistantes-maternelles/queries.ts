import { sql, type Kysely, type Transaction } from 'kysely';
import { isUniqueViolation } from '../../../db/errors.js';
import type { Database, PtitsPasRole } from '../../../db/schema.js';
import { badRequest, conflict, notFound } from '../../../plugins/errors.js';
import type { PtitsPasCaller } from '../../../domain/ptitspas/caller.js';
import { paginate } from '../../pagination.js';
import { matches, sortKey, sortOf } from '../lists.js';
import { isValidNir, normalizeNir, type NirCipher } from './nir.js';
import type { AssistanteMaternelleChanges, AssistanteMaternelleListOptions } from './schemas.js';

export const AM_NOT_FOUND = 'Assistante maternelle non trouvée';
export const AGREMENT_TAKEN = 'Ce numéro d’agrément est déjà utilisé.';
/** A childminder who does not say how many children she may keep: the usual agreement's four. */
export const DEFAULT_NB_MAX_ENFANTS = 4;
/** Who is shown a childminder's NIR in clear. */
const NIR_READERS: readonly PtitsPasRole[] = ['super_admin', 'gestionnaire'];

export interface ChildminderFields {
  numero_agrement: string;
  date_agrement: string;
  nb_max_enfants?: number;
  place_disponible?: number;
  disponible?: boolean;
  ville_residence?: string;
  biographie?: string;
  annee_experience?: number;
  specialite?: string;
  nir_chiffre?: string;
}

const today = () => new Date().toISOString().slice(0, 10);

function assertAgrementDate(date: string | undefined) {
  if (date && date > today()) throw badRequest('date_agrement ne peut pas être dans le futur');
}

function assertPlaces(max: number, free: number) {
  if (free < 0 || free > max) throw badRequest('place_disponible doit être comprise entre 0 et nb_max_enfants');
}

/** The NIR as stored: checked (shape and key), then encrypted for the row. */
function encryptedNir(cipher: NirCipher, input: string, rowId: string) {
  const nir = normalizeNir(input);
  if (!isValidNir(nir))
    throw badRequest('nir_chiffre n’est pas un numéro de sécurité sociale valide (15 caractères, clé)');
  return cipher.encrypt(nir, rowId);
}

async function translateConflicts<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    if (isUniqueViolation(err, 'assistantes_maternelles_numero_agrement_key')) throw conflict(AGREMENT_TAKEN);
    throw err;
  }
}

/** The childminder profile of a new account; without a number of free places, every place is free. */
export async function insertAssistanteMaternelle(
  db: Kysely<Database>,
  userId: string,
  fields: ChildminderFields,
  cipher?: NirCipher,
) {
  assertAgrementDate(fields.date_agrement);
  const max = fields.nb_max_enfants ?? DEFAULT_NB_MAX_ENFANTS;
  const free = fields.place_disponible ?? max;
  assertPlaces(max, free);
  if (fields.nir_chiffre !== undefined && !cipher) throw new Error('a NIR needs the cipher');
  const nir = fields.nir_chiffre === undefined ? undefined : encryptedNir(cipher!, fields.nir_chiffre, userId);
  await translateConflicts(
    db
      .insertInto('ptitspas.assistantes_maternelles')
      .values({
        id_utilisateur: userId,
        numero_agrement: fields.numero_agrement.trim(),
        date_agrement: fields.date_agrement,
        nb_max_enfants: max,
        place_disponible: free,
        disponible: fields.disponible ?? true,
        ville_residence: fields.ville_residence?.trim() ?? null,
        biographie: fields.biographie ?? null,
        annee_experience: fields.annee_experience ?? null,
        specialite: fields.specialite?.trim() ?? null,
        nir_chiffre: nir?.nir_chiffre ?? null,
        nir_cle: nir?.nir_cle ?? null,
      })
      .execute(),
  );
}

const childminders = (db: Kysely<Database>) =>
  db
    .selectFrom('ptitspas.assistantes_maternelles as a')
    .innerJoin('ptitspas.utilisateurs as u', 'u.id', 'a.id_utilisateur');

/** One childminder, the NIR decrypted only for the roles that may read it. */
export async function findAssistanteMaternelle(
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
  if (!row) return undefined;
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

/** Writes the named fields under the row's lock, so the place bounds hold against concurrent changes. */
export async function updateAssistanteMaternelle(
  trx: Transaction<Database>,
  cipher: NirCipher,
  id: string,
  changes: AssistanteMaternelleChanges,
) {
  const current = await trx
    .selectFrom('ptitspas.assistantes_maternelles')
    .select(['nb_max_enfants', 'place_disponible'])
    .where('id_utilisateur', '=', id)
    .forUpdate()
    .executeTakeFirst();
  if (!current) throw notFound(AM_NOT_FOUND);
  assertAgrementDate(changes.date_agrement);
  assertPlaces(changes.nb_max_enfants ?? current.nb_max_enfants, changes.place_disponible ?? current.place_disponible);
  const nir =
    changes.nir_chiffre === undefined
      ? {}
      : changes.nir_chiffre === null
        ? { nir_chiffre: null, nir_cle: null }
        : encryptedNir(cipher, changes.nir_chiffre, id);
  await translateConflicts(
    trx
      .updateTable('ptitspas.assistantes_maternelles')
      .set({
        numero_agrement: changes.numero_agrement?.trim(),
        date_agrement: changes.date_agrement,
        nb_max_enfants: changes.nb_max_enfants,
        place_disponible: changes.place_disponible,
        disponible: changes.disponible,
        ville_residence: changes.ville_residence === null ? null : changes.ville_residence?.trim(),
        biographie: changes.biographie,
        annee_experience: changes.annee_experience,
        specialite: changes.specialite === null ? null : changes.specialite?.trim(),
        ...nir,
      })
      .where('id_utilisateur', '=', id)
      .execute(),
  );
}

/**
 * Key rotation (docs/ptitspas.md): every NIR not encrypted under the current key is decrypted with
 * the key it names and encrypted again under the current one, a thousand rows a transaction.
 * Returns how many were re-encrypted; afterwards the old key may leave PTITSPAS_NIR_KEYS.
 */
export async function reencryptNirs(db: Kysely<Database>, cipher: NirCipher): Promise<number> {
  let done = 0;
  for (;;) {
    const moved = await db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('ptitspas.assistantes_maternelles')
        .select(['id_utilisateur', 'nir_chiffre', 'nir_cle'])
        .where('nir_cle', '<>', cipher.current.id)
        .limit(1000)
        .forUpdate()
        .skipLocked()
        .execute();
      for (const row of rows) {
        const nir = cipher.decrypt(row.nir_chiffre!, row.nir_cle!, row.id_utilisateur);
        await trx
          .updateTable('ptitspas.assistantes_maternelles')
          .set(cipher.encrypt(nir, row.id_utilisateur))
          .where('id_utilisateur', '=', row.id_utilisateur)
          .execute();
      }
      return rows.length;
    });
    done += moved;
    if (moved === 0) return done;
  }
}
