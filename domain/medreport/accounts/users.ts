import { type Insertable, type Kysely, sql } from 'kysely';
import { pick } from '../../../db/columns.js';
import { isUniqueViolation } from '../../../db/errors.js';
import type { Database, MedReportRole, PlatformRole, UserRow, UsersTable } from '../../../db/schema.js';
import { uuidv7 } from '../../../db/uuid.js';
import { emailTaken, normalizeEmail } from './rules.js';

/** What people say about themselves: the only user columns a request body ever writes. */
const PROFILE_COLUMNS = [
  'name',
  'phone',
  'address',
  'birth_date',
  'speciality',
  'medical_order_number',
] as const satisfies readonly (keyof UsersTable)[];

export type ProfileInput = Partial<Pick<Insertable<UsersTable>, (typeof PROFILE_COLUMNS)[number]>>;

/** What only the server decides about a new account. */
export interface AccountOwnedFields {
  passwordHash: string | null;
  role?: MedReportRole;
  platformRole?: PlatformRole;
  organizationId?: number;
  emailVerifiedAt?: Date;
}

/** The organization role, then the platform role: `["owner"]`, `["admin"]`, `["doctor", "admin"]`. */
export function rolesOf(row: Pick<UserRow, 'role' | 'platform_role'>): Array<'owner' | 'doctor' | 'admin'> {
  return [row.role, row.platform_role].filter((r) => r !== null);
}

export function findUserByEmail(db: Kysely<Database>, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('medreport.users').selectAll().where('email', '=', normalizeEmail(email)).executeTakeFirst();
}

/** Inserts a user; a taken e-mail (in any case) is invalid on `email` (422), never a 500. */
export async function createUser(
  db: Kysely<Database>,
  account: ProfileInput & { name: string; email: string },
  owned: AccountOwnedFields,
): Promise<UserRow> {
  try {
    return await db
      .insertInto('medreport.users')
      .values({
        ...pick(account, PROFILE_COLUMNS),
        name: account.name,
        email: normalizeEmail(account.email),
        uuid: uuidv7(),
        password_hash: owned.passwordHash,
        role: owned.role ?? null,
        platform_role: owned.platformRole ?? null,
        organization_id: owned.organizationId ?? null,
        email_verified_at: owned.emailVerifiedAt ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (err) {
    if (isUniqueViolation(err, 'users_email_lower_key')) throw emailTaken();
    throw err;
  }
}

/**
 * Writes the profile columns the caller sent, and nothing else; `avatar` (a stored file name the
 * server chose, or null to remove it) changes only when given.
 */
export function updateProfile(
  db: Kysely<Database>,
  id: number,
  changes: ProfileInput,
  avatar?: string | null,
): Promise<UserRow> {
  return db
    .updateTable('medreport.users')
    .set({ ...pick(changes, PROFILE_COLUMNS), ...(avatar === undefined ? {} : { avatar }), updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** `addressProved`: the change came through a link mailed to the account's address (a reset). */
export async function setPasswordHash(
  db: Kysely<Database>,
  id: number,
  passwordHash: string,
  { addressProved = false } = {},
): Promise<void> {
  await db
    .updateTable('medreport.users')
    .set({
      password_hash: passwordHash,
      updated_at: new Date(),
      ...(addressProved ? { email_verified_at: sql`coalesce(email_verified_at, now())` } : {}),
    })
    .where('id', '=', id)
    .execute();
}

/** A new address is an unverified one. */
export async function setEmail(db: Kysely<Database>, id: number, email: string): Promise<UserRow> {
  try {
    return await db
      .updateTable('medreport.users')
      .set({ email: normalizeEmail(email), email_verified_at: null, updated_at: new Date() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (err) {
    if (isUniqueViolation(err, 'users_email_lower_key')) throw emailTaken();
    throw err;
  }
}
