import { sql, type Kysely, type Selectable } from 'kysely';
import { isUniqueViolation } from '../../../db/errors.js';
import type { Database, PtitsPasRole, PtitsPasStatut, UtilisateursTable } from '../../../db/schema.js';
import { uuidv7 } from '../../../db/uuid.js';
import { conflict } from '../../../plugins/errors.js';
import { paginate } from '../../pagination.js';
import { matches, sortKey, sortOf } from '../lists.js';
import type { ListOptions, NewUserFields, UserChanges } from './schemas.js';

export const DETAIL = ['id', 'email', 'role', 'prenom', 'nom', 'telephone', 'adresse', 'statut', 'cree_le'] as const;
const SUMMARY = ['id', 'email', 'role', 'prenom', 'nom', 'statut', 'cree_le'] as const;

/** Rows as the API shows them: timestamps in ISO 8601 UTC. */
const shown = <T extends { cree_le: Date }>({ cree_le, ...row }: T) => ({ ...row, cree_le: cree_le.toISOString() });

export const EMAIL_TAKEN = 'Cet e-mail est déjà utilisé.';

/**
 * A new account. The client names only its own fields; role, statut and the password hash come
 * from the operation creating it (registration, an administrator, the CLI).
 */
export async function insertUser(
  db: Kysely<Database>,
  fields: NewUserFields,
  owned: { role: PtitsPasRole; statut: PtitsPasStatut; passwordHash: string | null },
) {
  try {
    return await db
      .insertInto('ptitspas.utilisateurs')
      .values({
        id: uuidv7(),
        email: fields.email.trim().toLowerCase(),
        prenom: fields.prenom.trim(),
        nom: fields.nom.trim(),
        telephone: fields.telephone?.trim() ?? null,
        adresse: fields.adresse?.trim() ?? null,
        role: owned.role,
        statut: owned.statut,
        password_hash: owned.passwordHash,
      })
      .returning([...DETAIL, 'password_hash'])
      .executeTakeFirstOrThrow();
  } catch (err) {
    if (isUniqueViolation(err, 'utilisateurs_email_key')) throw conflict(EMAIL_TAKEN);
    throw err;
  }
}

export async function findUser(db: Kysely<Database>, id: string, role?: PtitsPasRole) {
  let query = db.selectFrom('ptitspas.utilisateurs').select(DETAIL).where('id', '=', id);
  if (role) query = query.where('role', '=', role);
  const row = await query.executeTakeFirst();
  return row && shown(row);
}

export async function findUserByEmail(db: Kysely<Database>, email: string) {
  return db
    .selectFrom('ptitspas.utilisateurs')
    .select([...DETAIL, 'password_hash'])
    .where(sql<string>`lower(email)`, '=', email.trim().toLowerCase())
    .executeTakeFirst();
}

/** A page of accounts with the filters of the lists, and how many match. */
export async function listUsers(db: Kysely<Database>, options: ListOptions) {
  let query = db.selectFrom('ptitspas.utilisateurs').select(SUMMARY);
  if (options.role) query = query.where('role', '=', options.role);
  if (options.statut) query = query.where('statut', '=', options.statut);
  if (options.search?.trim()) query = query.where(matches('recherche', options.search));
  const { column, direction } = sortOf<'cree_le' | 'nom' | 'prenom' | 'email'>(options.sort);
  // The id breaks ties, so pages never overlap or skip a row.
  query = query.orderBy(sortKey(column), direction).orderBy('id', direction);
  const { rows, total } = await paginate<Selectable<UtilisateursTable>>(query, options);
  return { rows: rows.map(shown), total };
}

/** Writes only the named fields; `undefined` leaves a field as it is, `null` clears an optional one. */
export async function updateUser(db: Kysely<Database>, id: string, changes: UserChanges, role?: PtitsPasRole) {
  let query = db
    .updateTable('ptitspas.utilisateurs')
    .set({
      prenom: changes.prenom?.trim(),
      nom: changes.nom?.trim(),
      telephone: changes.telephone === null ? null : changes.telephone?.trim(),
      adresse: changes.adresse === null ? null : changes.adresse?.trim(),
      modifie_le: sql`now()`,
    })
    .where('id', '=', id);
  if (role) query = query.where('role', '=', role);
  const row = await query.returning(DETAIL).executeTakeFirst();
  return row && shown(row);
}
