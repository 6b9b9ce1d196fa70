import type { Kysely, Transaction } from 'kysely';
import type { Database, UserRow } from '../../../db/schema.js';
import { Forbidden, Unauthenticated } from '../../errors.js';
import type { NewAccount } from './model.js';
import { assertConfirmed, assertPastDate } from './rules.js';
import { revokeForRefresh } from './sessions.js';
import { type AccountOwnedFields, createUser, findUserByEmail } from './users.js';

/** Checks a password against a stored hash (the caller's hashing budget lives outside the domain). */
export interface PasswordVerifier {
  /** With no hash it still takes a hash's time and answers false. */
  verify(hash: string | null | undefined, password: string): Promise<boolean>;
}

/** Opens a session for the user inside `db` (a transaction, when there is one) and returns its token. */
export type OpenSession = (db: Kysely<Database>, user: UserRow) => Promise<string>;

/** The rules of a registration form a schema cannot express (checked before any hashing). */
export function checkNewAccount(account: NewAccount): void {
  assertConfirmed(account.password, account.password_confirmation);
  assertPastDate('birth_date', account.birth_date);
}

/** Creates the account and opens its first session, in one transaction: a failure leaves neither. */
export function registerAccount(
  db: Kysely<Database>,
  account: NewAccount,
  owned: AccountOwnedFields,
  openSession: OpenSession,
): Promise<{ user: UserRow; token: string }> {
  return db.transaction().execute(async (trx) => {
    const user = await createUser(trx, account, owned);
    return { user, token: await openSession(trx, user) };
  });
}

/** The account behind an e-mail and password; unauthenticated when either is wrong, forbidden when suspended. */
export async function logIn(
  db: Kysely<Database>,
  { email, password }: { email: string; password: string },
  passwords: PasswordVerifier,
): Promise<UserRow> {
  const user = await findUserByEmail(db, email);
  // Verified even without an account: "no such account" takes as long as "wrong password".
  if (!(await passwords.verify(user?.password_hash, password)) || !user) {
    throw new Unauthenticated('Identifiants invalides.');
  }
  assertNotSuspended(user);
  return user;
}

export function assertNotSuspended(user: Pick<UserRow, 'status'>): void {
  if (user.status === 'suspended') throw new Forbidden('Ce compte est suspendu.');
}

/** Ends the session `sessionId` and opens the next one, in one transaction (refresh). */
export function refreshSession(
  db: Kysely<Database>,
  sessionId: string,
  openNext: (trx: Transaction<Database>) => Promise<string>,
): Promise<string> {
  return db.transaction().execute(async (trx) => {
    await revokeForRefresh(trx, sessionId);
    return openNext(trx);
  });
}
