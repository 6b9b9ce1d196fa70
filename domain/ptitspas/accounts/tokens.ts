import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database, PtitsPasRole } from '../../../db/schema.js';
import { uuidv7 } from '../../../db/uuid.js';
import { secretDigest as digest, newSecret as newToken } from './secrets.js';

/**
 * Refresh tokens (docs/ptitspas.md): opaque, random, stored as SHA-256 hashes, valid 30 days,
 * exchanged for a new one on every use. Every token of one login shares a family; presenting a
 * token that was already exchanged is reuse (RFC 9700 §4.14.2) and revokes the family, except a
 * retry within a few seconds while its successor was never used: the client lost the answer, so
 * a new successor is issued and the unused one is marked superseded (exchanged, with no
 * successor). Presenting a superseded token is reuse like any other: if the retry was a stolen
 * copy replayed, the holder of the superseded token presents it and the login ends for both.
 */
const REFRESH_TOKEN_TTL_DAYS = 30;
const REFRESH_GRACE_SECONDS = 10;

export type RevocationReason = 'logout' | 'reuse' | 'suspension';

const expiry = () => new Date(Date.now() + REFRESH_TOKEN_TTL_DAYS * 86_400_000);

/** A new login of the user: its family and first refresh token, in one statement. */
export async function openFamily(db: Kysely<Database>, userId: string) {
  const familyId = uuidv7();
  const refreshToken = newToken();
  await sql`
    with family as (
      insert into ptitspas.refresh_families (id, id_utilisateur) values (${familyId}, ${userId})
    )
    insert into ptitspas.refresh_tokens (token_hash, id_famille, expire_le)
    values (${digest(refreshToken)}, ${familyId}, ${expiry()})`.execute(db);
  return { familyId, refreshToken };
}

export type Rotation =
  | { kind: 'rotated'; user: { id: string; role: PtitsPasRole }; familyId: string; refreshToken: string }
  | { kind: 'invalid' }
  | { kind: 'reused' };

/** Exchanges a refresh token for a new one; the family's row lock serializes racing refreshes. */
export async function rotate(db: Kysely<Database>, presented: string): Promise<Rotation> {
  return db.transaction().execute(async (trx) => {
    const found = await trx
      .selectFrom('ptitspas.refresh_tokens as t')
      .innerJoin('ptitspas.refresh_families as f', 'f.id', 't.id_famille')
      .innerJoin('ptitspas.utilisateurs as u', 'u.id', 'f.id_utilisateur')
      .select(['t.token_hash', 't.id_famille', 't.remplace_le', 't.successeur', 'f.revoque_le', 'u.id', 'u.role'])
      .select([
        sql<boolean>`t.expire_le > now()`.as('live'),
        sql<boolean>`t.remplace_le > now() - make_interval(secs => ${REFRESH_GRACE_SECONDS})`.as('within_grace'),
        sql<boolean>`u.statut = 'actif'`.as('active'),
      ])
      .where('t.token_hash', '=', digest(presented))
      // Both rows: a refresh that waited for another sees the token as that one left it.
      .forUpdate(['t', 'f'])
      .executeTakeFirst();
    if (!found || found.revoque_le || !found.live || !found.active) return { kind: 'invalid' as const };

    if (found.remplace_le) {
      const successorSuperseded =
        found.within_grace &&
        found.successeur &&
        (
          await trx
            .updateTable('ptitspas.refresh_tokens')
            .set({ remplace_le: sql`now()` })
            .where('token_hash', '=', found.successeur)
            .where('remplace_le', 'is', null)
            .executeTakeFirst()
        ).numUpdatedRows > 0n;
      if (!successorSuperseded) {
        await revokeFamily(trx, found.id_famille, 'reuse');
        return { kind: 'reused' as const };
      }
    }

    const refreshToken = newToken();
    const successor = digest(refreshToken);
    await trx
      .insertInto('ptitspas.refresh_tokens')
      .values({ token_hash: successor, id_famille: found.id_famille, expire_le: expiry() })
      .execute();
    await trx
      .updateTable('ptitspas.refresh_tokens')
      .set({ remplace_le: found.remplace_le ?? sql`now()`, successeur: successor })
      .where('token_hash', '=', found.token_hash)
      .execute();
    return {
      kind: 'rotated' as const,
      user: { id: found.id, role: found.role },
      familyId: found.id_famille,
      refreshToken,
    };
  });
}

export async function revokeFamily(db: Kysely<Database>, familyId: string, reason: RevocationReason) {
  await db
    .updateTable('ptitspas.refresh_families')
    .set({ revoque_le: sql`now()`, motif_revocation: reason })
    .where('id', '=', familyId)
    .where('revoque_le', 'is', null)
    .execute();
}

/** Every live login of the user, at once (suspension, deletion). */
export async function revokeUserFamilies(trx: Transaction<Database>, userId: string, reason: RevocationReason) {
  await trx
    .updateTable('ptitspas.refresh_families')
    .set({ revoque_le: sql`now()`, motif_revocation: reason })
    .where('id_utilisateur', '=', userId)
    .where('revoque_le', 'is', null)
    .execute();
}

/** Refresh tokens past their expiry can no longer be presented: nothing to detect, nothing to keep. */
export async function pruneRefreshTokens(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    with tokens as (
      delete from ptitspas.refresh_tokens where expire_le < now() returning id_famille
    ), families as (
      delete from ptitspas.refresh_families f
       where f.cree_le < now() - make_interval(days => ${REFRESH_TOKEN_TTL_DAYS})
         and not exists (select 1 from ptitspas.refresh_tokens t where t.id_famille = f.id and t.expire_le >= now())
    )
    select count(*)::int as n from tokens`.execute(db);
  return rows[0]!.n;
}
