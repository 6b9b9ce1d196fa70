import type { Kysely, Transaction } from 'kysely';
import { isUniqueViolation } from '../../../db/errors.js';
import type { Database } from '../../../db/schema.js';
import { Conflict, NotFound } from '../../errors.js';
import { deleteUser } from '../accounts/statuses.js';
import type { PtitsPasCaller } from '../caller.js';
import { createActiveUser } from '../users/create.js';
import type { AssistanteMaternelleChanges, ChildminderProfile, NewAssistanteMaternelle } from './model.js';
import type { NirCipher } from './nir.js';
import { getAssistanteMaternelle } from './queries.js';
import {
  AGREMENT_TAKEN,
  AM_NOT_FOUND,
  assertAgrementDate,
  assertPlaces,
  checkChildminder,
  encryptedNir,
  placesOf,
} from './rules.js';

/** The agreement number is unique whatever its case: the index says so, the API says 409. */
async function translateConflicts<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    if (isUniqueViolation(err, 'assistantes_maternelles_numero_agrement_key')) throw new Conflict(AGREMENT_TAKEN);
    throw err;
  }
}

/**
 * The childminder profiles of new accounts, in one statement: the single write path of
 * childminders (registration, POST /assistantes-maternelles, the CSV import). Without a number of
 * free places, every place is free. A NIR needs the cipher.
 */
export async function insertAssistantesMaternelles(
  db: Kysely<Database>,
  profiles: ReadonlyArray<{ userId: string; fields: ChildminderProfile }>,
  cipher?: NirCipher,
): Promise<void> {
  if (profiles.length === 0) return;
  const rows = profiles.map(({ userId, fields }) => {
    checkChildminder(fields);
    const { max, free } = placesOf(fields);
    if (fields.nir_chiffre !== undefined && !cipher) throw new Error('a NIR needs the cipher');
    const nir = fields.nir_chiffre === undefined ? undefined : encryptedNir(cipher!, fields.nir_chiffre, userId);
    return {
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
    };
  });
  await translateConflicts(db.insertInto('ptitspas.assistantes_maternelles').values(rows).execute());
}

/**
 * POST /assistantes-maternelles: an active childminder account and its profile, in one
 * transaction. `passwordHash` null: the account gets a set-password link (`token`, for the mail).
 */
export async function createAssistanteMaternelle(
  db: Kysely<Database>,
  cipher: NirCipher,
  caller: PtitsPasCaller,
  { email, password: _password, prenom, nom, telephone, adresse, ...profile }: NewAssistanteMaternelle,
  passwordHash: string | null,
) {
  const { user, token } = await createActiveUser(
    db,
    { email, prenom, nom, telephone, adresse },
    'assistante_maternelle',
    passwordHash,
    (trx, id) => insertAssistantesMaternelles(trx, [{ userId: id, fields: profile }], cipher),
  );
  return { user, token, assistanteMaternelle: await getAssistanteMaternelle(db, cipher, caller, user.id) };
}

/** Writes the named fields under the row's lock, so the place bounds hold against concurrent changes. */
async function writeChanges(
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
  if (!current) throw new NotFound(AM_NOT_FOUND);
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

/** PATCH /assistantes-maternelles/:id: the changes in one transaction, then the childminder as `caller` sees her. */
export async function updateAssistanteMaternelle(
  db: Kysely<Database>,
  cipher: NirCipher,
  caller: PtitsPasCaller,
  id: string,
  changes: AssistanteMaternelleChanges,
) {
  await db.transaction().execute((trx) => writeChanges(trx, cipher, id, changes));
  return getAssistanteMaternelle(db, cipher, caller, id);
}

/** DELETE /assistantes-maternelles/:id: the childminder's account (an id of another role is not found). */
export async function deleteAssistanteMaternelle(db: Kysely<Database>, actor: PtitsPasCaller, id: string) {
  await deleteUser(db, actor, id, { role: 'assistante_maternelle', missing: AM_NOT_FOUND });
}
