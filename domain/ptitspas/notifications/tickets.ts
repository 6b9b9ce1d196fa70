import { type Kysely, sql } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { newSecret, secretDigest } from '../accounts/secrets.js';
import type { PtitsPasCaller } from '../caller.js';

/**
 * WebSocket tickets (POST /notifications/ticket): a browser cannot send an Authorization header
 * with its upgrade request, so it asks for a ticket with its access token and opens the socket with
 * `?ticket=`. A ticket is random, stored hashed, valid 30 seconds, used once, and stands for the
 * login that asked: a revoked login's tickets open nothing (they go with its family).
 */
const TICKET_SECONDS = 30;

export async function createTicket(db: Kysely<Database>, caller: PtitsPasCaller) {
  const ticket = newSecret();
  // Expired tickets of anyone go first (by the expiry index): the table holds live ones only.
  await db.deleteFrom('ptitspas.tickets_ws').where('expire_le', '<', sql<Date>`now()`).execute();
  const { expire_le } = await db
    .insertInto('ptitspas.tickets_ws')
    .values({
      ticket_hash: secretDigest(ticket),
      id_famille: caller.familyId,
      expire_le: sql`now() + make_interval(secs => ${TICKET_SECONDS})`,
    })
    .returning('expire_le')
    .executeTakeFirstOrThrow();
  return { ticket, expire_le: expire_le.toISOString() };
}

/**
 * The login a ticket stands for, spending it: undefined for an unknown, used or expired one. The
 * caller still checks that the login is live and the account active (callerOfLogin).
 */
export async function spendTicket(db: Kysely<Database>, ticket: string) {
  const row = await db
    .deleteFrom('ptitspas.tickets_ws as t')
    .using('ptitspas.refresh_families as f')
    .whereRef('f.id', '=', 't.id_famille')
    .where('t.ticket_hash', '=', secretDigest(ticket))
    .where('t.expire_le', '>', sql<Date>`now()`)
    .returning(['f.id as familyId', 'f.id_utilisateur as userId'])
    .executeTakeFirst();
  return row;
}
