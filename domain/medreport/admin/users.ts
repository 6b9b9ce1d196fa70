import { type Kysely, sql, type Transaction, type Updateable } from 'kysely';
import { isUniqueViolation } from '../../../db/errors.js';
import { containing } from '../../../db/like.js';
import type { Database, UserRow, UsersTable } from '../../../db/schema.js';
import { Conflict, Invalid, NotFound } from '../../errors.js';
import { assertPastDate, emailTaken, normalizeEmail } from '../accounts/rules.js';
import { revokeSessions } from '../accounts/sessions.js';
import type { UserSearch, UserUpdate } from './model.js';

/** Who an administrator's action is logged as. */
export interface Admin {
  id: number;
  name: string;
}

/** An account as administration reads it: with its organization's name. */
export type AdminUserRow = UserRow & { organization_name: string | null };

const DELETED_NAME = 'Utilisateur supprimé';

function users(db: Kysely<Database>) {
  return db
    .selectFrom('medreport.users as u')
    .leftJoin('medreport.organizations as o', 'o.id', 'u.organization_id')
    .selectAll('u')
    .select('o.name as organization_name')
    .where('u.deleted_at', 'is', null);
}

/**
 * A page of accounts, newest first. `search` is folded like `users.search_text` (lower case, no
 * accents) and matched anywhere in it through the trigram index (docs/admin.md).
 */
export async function listUsers(db: Kysely<Database>, query: UserSearch) {
  let filtered = db.selectFrom('medreport.users').where('deleted_at', 'is', null);
  if (query.search?.trim()) {
    filtered = filtered.where('search_text', 'like', containing(query.search.trim(), 'medreport'));
  }
  if (query.status) filtered = filtered.where('status', '=', query.status);
  if (query.role === 'admin') filtered = filtered.where('platform_role', '=', 'admin');
  else if (query.role) filtered = filtered.where('role', '=', query.role);
  if (query.organization_id) filtered = filtered.where('organization_id', '=', query.organization_id);

  const [page, count] = await Promise.all([
    filtered
      .leftJoin('medreport.organizations as o', 'o.id', 'medreport.users.organization_id')
      .selectAll('medreport.users')
      .select('o.name as organization_name')
      .orderBy('medreport.users.created_at', 'desc')
      .orderBy('medreport.users.id', 'desc')
      .limit(query.limit)
      .offset((query.page - 1) * query.limit)
      .execute(),
    filtered.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows: page as AdminUserRow[], total: count.n };
}

export async function findUser(db: Kysely<Database>, id: number): Promise<AdminUserRow> {
  const row = await users(db).where('u.id', '=', id).executeTakeFirst();
  if (!row) throw new NotFound('Utilisateur introuvable.');
  return row as AdminUserRow;
}

/**
 * Runs an administrator's change of an account as one transaction: the account locked, the change,
 * and its activity-log entry (without an organization: docs/admin.md).
 */
export async function adminAction<T>(
  db: Kysely<Database>,
  admin: Admin,
  id: number,
  action: string,
  work: (trx: Transaction<Database>, target: UserRow) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    const target = await trx
      .selectFrom('medreport.users')
      .selectAll()
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .forUpdate()
      .executeTakeFirst();
    if (!target) throw new NotFound('Utilisateur introuvable.');
    const value = await work(trx, target);
    const name = action === 'admin.user.deleted' ? DELETED_NAME : target.name;
    await sql`select medreport.log_platform_action(${admin.id}, ${admin.name}, ${action}, ${target.uuid}::uuid, ${name})`.execute(
      trx,
    );
    return value;
  });
}

/**
 * The platform keeps one active administrator: refuses (conflict) a change that would leave none.
 * Changes of administrators wait for each other here, so two cannot each remove the other.
 */
async function keepAnAdministrator(trx: Transaction<Database>, target: UserRow, message: string): Promise<void> {
  if (target.platform_role !== 'admin' || target.status !== 'active') return;
  await sql`select pg_advisory_xact_lock(hashtextextended('medreport.platform_admins', 0))`.execute(trx);
  const others = await trx
    .selectFrom('medreport.users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('platform_role', '=', 'admin')
    .where('status', '=', 'active')
    .where('deleted_at', 'is', null)
    .where('id', '!=', target.id)
    .executeTakeFirstOrThrow();
  if (others.n === 0) throw new Conflict(message);
}

const LAST_ADMIN = 'C’est le dernier administrateur actif : nommez-en un autre avant.';

export async function updateUser(trx: Transaction<Database>, target: UserRow, body: UserUpdate) {
  assertPastDate('birth_date', body.birth_date ?? undefined);
  const set: Updateable<UsersTable> = {};
  for (const column of ['name', 'phone', 'address', 'birth_date', 'speciality', 'medical_order_number'] as const) {
    if (body[column] !== undefined) (set as Record<string, unknown>)[column] = body[column];
  }
  if (body.email !== undefined) set.email = normalizeEmail(body.email);
  if (body.roles) {
    const organizationRoles = body.roles.filter((r) => r !== 'admin');
    if (organizationRoles.some((r) => r !== target.role)) {
      const message = "Le rôle dans l'organisation se gère dans l'organisation.";
      throw new Invalid(message, { roles: [message] });
    }
    const platformRole = body.roles.includes('admin') ? 'admin' : null;
    if (platformRole === null) await keepAnAdministrator(trx, target, LAST_ADMIN);
    set.platform_role = platformRole;
  }
  if (Object.keys(set).length === 0) return;
  try {
    await trx
      .updateTable('medreport.users')
      .set({ ...set, updated_at: new Date() })
      .where('id', '=', target.id)
      .execute();
  } catch (err) {
    if (isUniqueViolation(err, 'users_email_lower_key')) throw emailTaken();
    throw err;
  }
}

/** Suspending revokes every session at once (every instance forgets them: plugins/auth-cache.ts). */
export async function setStatus(trx: Transaction<Database>, target: UserRow, status: 'active' | 'suspended') {
  if (status === 'suspended') {
    await keepAnAdministrator(trx, target, LAST_ADMIN);
    await revokeSessions(trx, target.id);
  }
  await trx
    .updateTable('medreport.users')
    .set({ status, updated_at: new Date() })
    .where('id', '=', target.id)
    .execute();
}

/**
 * Deletes an account: its personal data goes, its row stays (the records it created keep their
 * author, as a deleted user), and the activity log keeps its entries with the actor anonymised.
 * Returns the avatar to remove from storage once committed.
 */
export async function deleteUser(trx: Transaction<Database>, target: UserRow): Promise<string | null> {
  await keepAnAdministrator(trx, target, LAST_ADMIN);
  if (target.role === 'owner') {
    const members = await trx
      .selectFrom('medreport.users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('organization_id', '=', target.organization_id)
      .where('id', '!=', target.id)
      .where('deleted_at', 'is', null)
      .executeTakeFirstOrThrow();
    if (members.n > 0) {
      throw new Conflict(
        `Ce compte possède une organisation qui a encore ${members.n} autre(s) membre(s) : ` +
          'transférez-la ou retirez ces membres avant de le supprimer.',
      );
    }
  }
  await revokeSessions(trx, target.id);
  await trx.deleteFrom('medreport.oauth_identities').where('user_id', '=', target.id).execute();
  await trx.deleteFrom('medreport.password_resets').where('user_id', '=', target.id).execute();
  await trx
    .updateTable('medreport.users')
    .set({
      name: DELETED_NAME,
      email: `supprime-${target.uuid}@comptes-supprimes.invalid`,
      password_hash: null,
      phone: null,
      address: null,
      birth_date: null,
      speciality: null,
      medical_order_number: null,
      avatar: null,
      email_verified_at: null,
      role: null,
      platform_role: null,
      organization_id: null,
      deleted_at: new Date(),
      updated_at: new Date(),
    })
    .where('id', '=', target.id)
    .execute();
  await sql`select medreport.anonymise_user(${target.id}, ${target.uuid}::uuid, ${DELETED_NAME})`.execute(trx);
  return target.avatar;
}
