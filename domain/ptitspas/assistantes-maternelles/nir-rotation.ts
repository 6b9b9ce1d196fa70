import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import type { NirCipher } from './nir.js';

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
