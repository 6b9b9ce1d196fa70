import { type Kysely, type Selectable, sql } from 'kysely';
import { isUniqueViolation } from '../../../db/errors.js';
import type { Database, PtitsPasRole, PtitsPasStatut, UtilisateursTable } from '../../../db/schema.js';
import { uuidv7 } from '../../../db/uuid.js';
import { Conflict, NotFound } from '../../errors.js';
import { paginate } from '../../shared/pagination.js';
import { matches, sortKey, sortOf } from '../lists.js';
import type { UserListOptions } from '../users/model.js';
import type { NewUserFields, UserChanges } from './model.js';

const DETAIL = ['id', 'email', 'role', 'prenom', 'nom', 'telephone', 'adresse', 'statut', 'cree_le'] as const;
const SUMMARY = ['id', 'email', 'role', 'prenom', 'nom', 'statut', 'cree_le'] as const;

/** Rows as the API shows them: timestamps in ISO 8601 UTC. */
const shown = <T extends { cree_le: Date }>({ cree_le, ...row }: T) => ({ ...row, cree_le: cree_le.toISOString() });

const EMAIL_TAKEN = 'Cet e-mail est déjà utilisé.';
export const USER_NOT_FOUND = 'Utilisateur non trouvé';

/** What the operation creating an account decides: never the client. */
export interface OwnedFields {
  role: PtitsPasRole;
  statut: PtitsPasStatut;
  passwordHash: string | null;
}

/**
 * New accounts, in one statement: the single write path of accounts (registration, staff, the
 * CLI, the CSV import). The client names only its own fields; role, statut and the password hash
 * come from the operation creating it. Returned in the order given.
 */
export async function insertUsers(
  db: Kysely<Database>,
  accounts: Array<{ fields: NewUserFields; owned: OwnedFields }>,
) {
  if (accounts.length === 0) return [];
  const values = accounts.map(({ fields, owned }) => ({
    id: uuidv7(),
    email: fields.email.trim().toLowerCase(),
    prenom: fields.prenom.trim(),
    nom: fields.nom.trim(),
    telephone: fields.telephone?.trim() ?? null,
    adresse: fields.adresse?.trim() ?? null,
    role: owned.role,
    statut: owned.statut,
    password_hash: owned.passwordHash,
  }));
  try {
    const rows = await db
      .insertInto('ptitspas.utilisateurs')
      .values(values)
      .returning([...DETAIL, 'password_hash'])
      .execute();
    const byId = new Map(rows.map((row) => [row.id, row]));
    return values.map((v) => byId.get(v.id)!);
  } catch (err) {
    if (isUniqueViolation(err, 'utilisateurs_email_key')) throw new Conflict(EMAIL_TAKEN);
    throw err;
  }
}

/** One new account (see insertUsers). */
export async function insertUser(db: Kysely<Database>, fields: NewUserFields, owned: OwnedFields) {
  const [user] = await insertUsers(db, [{ fields, owned }]);
  return user!;
}

async function findUser(db: Kysely<Database>, id: string, role?: PtitsPasRole) {
  let query = db.selectFrom('ptitspas.utilisateurs').select(DETAIL).where('id', '=', id);
  if (role) query = query.where('role', '=', role);
  const row = await query.executeTakeFirst();
  return row && shown(row);
}

/** The account `id` (of `role` when given), or NotFound with `missing`. */
export async function getUser(db: Kysely<Database>, id: string, role?: PtitsPasRole, missing = USER_NOT_FOUND) {
  const user = await findUser(db, id, role);
  if (!user) throw new NotFound(missing);
  return user;
}

export async function findUserByEmail(db: Kysely<Database>, email: string) {
  return db
    .selectFrom('ptitspas.utilisateurs')
    .select([...DETAIL, 'password_hash'])
    .where(sql<string>`lower(email)`, '=', email.trim().toLowerCase())
    .executeTakeFirst();
}

/** Which of `emails` (in lower case) already name an account. */
export async function existingEmails(db: Kysely<Database>, emails: readonly string[]): Promise<Set<string>> {
  const taken = new Set<string>();
  // Chunks keep each array parameter to a reasonable size.
  for (let i = 0; i < emails.length; i += 10_000) {
    const { rows } = await sql<{ email: string }>`
      select lower(email) as email from ptitspas.utilisateurs where lower(email) = any(${emails.slice(i, i + 10_000)})`.execute(
      db,
    );
    for (const r of rows) taken.add(r.email);
  }
  return taken;
}

/** A page of accounts with the filters of the lists, and how many match. */
export async function listUsers(db: Kysely<Database>, options: UserListOptions) {
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

/** updateUser, NotFound with `missing` when there is no such account (of `role`). */
export async function changeUser(
  db: Kysely<Database>,
  id: string,
  changes: UserChanges,
  role?: PtitsPasRole,
  missing = USER_NOT_FOUND,
) {
  const user = await updateUser(db, id, changes, role);
  if (!user) throw new NotFound(missing);
  return user;
}
