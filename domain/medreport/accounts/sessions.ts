import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type pg from 'pg';
import type { Database, UserRow } from '../../../db/schema.js';
import { Unauthenticated } from '../../errors.js';

/** Where a session was opened from, kept with it. */
export interface SessionOrigin {
  ip: string;
  userAgent: string | undefined;
}

/** Opens a server-side session for the user, alive `ttlSeconds`; returns its id (the token's `sid`). */
export async function openSession(
  db: Kysely<Database>,
  userId: number,
  ttlSeconds: number,
  origin: SessionOrigin,
): Promise<string> {
  const sid = randomUUID();
  await db
    .insertInto('medreport.sessions')
    .values({
      id: sid,
      user_id: userId,
      expires_at: new Date(Date.now() + ttlSeconds * 1000),
      ip: origin.ip,
      user_agent: origin.userAgent?.slice(0, 512) ?? null,
    })
    .execute();
  return sid;
}

/** The caller of an authenticated MedReport route: their user row and the session their token names. */
export type SessionUser = Omit<UserRow, 'password_hash'> & { session_id: string };

/** A live session and its user, as the token check reads them. */
export type SessionUserRow = UserRow & { session_id: string; session_expires_at: Date };

// Checks the session and loads its user (prepared once per connection unless behind a
// transaction pooler: db/connection.ts names statements by their text).
const SESSION_USER = `
    select s.id as session_id, s.expires_at as session_expires_at, u.*
      from medreport.sessions s
      join medreport.users u on u.id = s.user_id
     where s.id = $1 and s.revoked_at is null and s.expires_at > now()`;

/**
 * The live (unrevoked, unexpired) session `sessionId` and its user, in one round trip; undefined
 * when there is none. Run on the raw pool: it is the hot path of every authenticated request.
 */
export async function findLiveSessionUser(
  pool: Pick<pg.Pool, 'query'>,
  sessionId: string,
): Promise<SessionUserRow | undefined> {
  const { rows } = await pool.query<SessionUserRow>(SESSION_USER, [sessionId]);
  return rows[0];
}

/** Revokes one session (logout). */
export async function revokeSession(db: Kysely<Database>, sessionId: string): Promise<void> {
  await db.updateTable('medreport.sessions').set({ revoked_at: new Date() }).where('id', '=', sessionId).execute();
}

/**
 * Revokes the live session `sessionId` so that a new one may replace it (refresh). Two refreshes
 * racing with one token: only the first gets through, the other is unauthenticated.
 */
export async function revokeForRefresh(trx: Transaction<Database>, sessionId: string): Promise<void> {
  const revoked = await trx
    .updateTable('medreport.sessions')
    .set({ revoked_at: new Date() })
    .where('id', '=', sessionId)
    .where('revoked_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  if (!revoked) throw new Unauthenticated('Session expirée ou révoquée.');
}

/** Revokes every live session of the user, except `keep` (the caller's own) when given. */
export async function revokeSessions(db: Kysely<Database>, userId: number, keep?: string): Promise<void> {
  let query = db
    .updateTable('medreport.sessions')
    .set({ revoked_at: new Date() })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null);
  if (keep) query = query.where('id', '!=', keep);
  await query.execute();
}
