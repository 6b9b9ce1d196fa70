import type { Kysely, Selectable } from 'kysely';
import type { ByteRange, Storage, StoredBytes } from '../../../adapters/storage/index.js';
import type { Database } from '../../../db/schema.js';
import type { UploadsTable } from '../../../db/schema-ptitspas.js';
import { NotFound } from '../../errors.js';
import type { PtitsPasCaller } from '../caller.js';
import { isStaff, visibleEnfants } from '../enfants/visibility.js';
import type { Upload } from './model.js';

const UPLOAD_NOT_FOUND = 'Fichier non trouvé';

/**
 * The uploads `caller` may see: staff every one; anyone else their own, and those of a child
 * they see, except a `decision_justice`, which only the child's parents (and staff) see.
 */
function visibleUploads(db: Kysely<Database>, caller: PtitsPasCaller) {
  const all = db.selectFrom('ptitspas.uploads as u');
  if (isStaff(caller)) return all;
  return all.where((eb) =>
    eb.or([
      eb('u.id_auteur', '=', caller.id),
      eb.and([
        eb('u.id_enfant', 'in', visibleEnfants(db, caller).select('e.id')),
        caller.role === 'parent' ? eb.lit(true) : eb('u.categorie', '<>', 'decision_justice'),
      ]),
    ]),
  );
}

/** An upload as the API shows it. */
export function shown(row: Selectable<UploadsTable>): Upload {
  return {
    id: row.id,
    nom: row.nom,
    type_mime: row.type_mime as Upload['type_mime'],
    taille: Number(row.taille),
    sha256: row.sha256,
    categorie: row.categorie,
    id_enfant: row.id_enfant,
    id_auteur: row.id_auteur,
    cree_le: row.cree_le.toISOString(),
  };
}

/** The upload `id` and its row, or NotFound when `caller` may not see it. */
export async function findUpload(db: Kysely<Database>, caller: PtitsPasCaller, id: string) {
  const row = await visibleUploads(db, caller).selectAll('u').where('u.id', '=', id).executeTakeFirst();
  if (!row) throw new NotFound(UPLOAD_NOT_FOUND);
  return row;
}

export async function getUpload(db: Kysely<Database>, caller: PtitsPasCaller, id: string): Promise<Upload> {
  return shown(await findUpload(db, caller, id));
}

/**
 * The upload `id` (NotFound when `caller` may not see it) and a way to read its bytes, all of
 * them or a range, once the caller has decided it wants them (a conditional request may not).
 */
export async function openUpload(db: Kysely<Database>, storage: Storage, caller: PtitsPasCaller, id: string) {
  const row = await findUpload(db, caller, id);
  return {
    upload: shown(row),
    async read(range?: ByteRange): Promise<StoredBytes> {
      const bytes = await storage.get(row.cle, range);
      // A row never points at a missing object (the object is written first); if one does, the
      // bytes were lost outside the server: not found, and storage:check lists the row.
      if (!bytes) throw new NotFound(UPLOAD_NOT_FOUND);
      return bytes;
    },
  };
}
