import type { Kysely } from 'kysely';
import type { Storage } from '../../../adapters/storage/index.js';
import { isForeignKeyViolation } from '../../../db/errors.js';
import type { Database } from '../../../db/schema.js';
import { uuidv7 } from '../../../db/uuid.js';
import { Conflict, Forbidden, Invalid, NotFound, Unsupported } from '../../errors.js';
import type { StoredFile } from '../../shared/stored-files.js';
import type { PtitsPasCaller } from '../caller.js';
import { ENFANT_NOT_FOUND } from '../enfants/rules.js';
import { isStaff, visibleEnfants } from '../enfants/visibility.js';
import { ACCEPTED_TYPES, type Categorie, type Upload } from './model.js';
import { findUpload, shown } from './queries.js';

/** Where a new upload's bytes go, and the id its row will have. */
export function newUploadKey(): { id: string; key: string } {
  const id = uuidv7();
  const now = new Date();
  const month = String(now.getUTCMonth() + 1).padStart(2, '0');
  return { id, key: `ptitspas/uploads/${now.getUTCFullYear()}/${month}/${id}` };
}

export interface NewUpload {
  id: string;
  file: StoredFile;
  /** The name the client sent; any path is removed here. */
  filename: string;
  categorie: Categorie;
  id_enfant?: string;
}

/** The file's own name: what follows the last `/` or `\`, trimmed. */
const baseName = (filename: string) => filename.split(/[/\\]/).pop()!.trim();

/**
 * Records a file already in storage (routes/shared/upload-form.ts removes it if this throws):
 * its type is read from its content (PDF, JPEG, PNG, WebP; else 415), it is not empty, and a
 * child it names is one the uploader sees; a photo needs the child's photo consent. The child's
 * row is locked until the commit, so it cannot be deleted under the upload.
 */
export async function recordUpload(db: Kysely<Database>, caller: PtitsPasCaller, upload: NewUpload): Promise<Upload> {
  const { file, categorie } = upload;
  const nom = baseName(upload.filename);
  if (file.size === 0) throw new Invalid('Le fichier est vide', { fichier: ['Le fichier est vide.'] });
  if (!nom) throw new Invalid('Le fichier doit avoir un nom', { fichier: ['Le fichier doit avoir un nom.'] });
  const type = file.detected?.mime;
  if (!type || !(ACCEPTED_TYPES as readonly string[]).includes(type)) {
    throw new Unsupported('Type de fichier non accepté : PDF, JPEG, PNG ou WebP uniquement');
  }
  if (categorie === 'decision_justice' && caller.role === 'assistante_maternelle') {
    // She could not read it back: a court decision is for the child's parents and staff only.
    throw new Invalid('Une décision de justice est déposée par un parent ou le personnel', {
      categorie: ['Catégorie non autorisée pour une assistante maternelle.'],
    });
  }
  return db.transaction().execute(async (trx) => {
    if (upload.id_enfant) {
      const enfant = await visibleEnfants(trx, caller)
        .select('e.consentement_photo')
        .where('e.id', '=', upload.id_enfant)
        .forKeyShare()
        .executeTakeFirst();
      if (!enfant) throw new NotFound(ENFANT_NOT_FOUND);
      if (categorie === 'photo' && !enfant.consentement_photo) {
        throw new Invalid("Pas de photo de cet enfant : ses parents n'y ont pas consenti", {
          categorie: ['Consentement photo absent.'],
        });
      }
    }
    const row = await trx
      .insertInto('ptitspas.uploads')
      .values({
        id: upload.id,
        nom,
        type_mime: type,
        taille: file.size,
        sha256: file.sha256,
        categorie,
        id_enfant: upload.id_enfant ?? null,
        id_auteur: caller.id,
        cle: file.key,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return shown(row);
  });
}

/**
 * Deletes an upload the caller sees: its author or staff may (403 otherwise); 409 while a dossier
 * lists it (the foreign key says so, race-free). The bytes go once the row is gone.
 */
export async function deleteUpload(db: Kysely<Database>, storage: Storage, caller: PtitsPasCaller, id: string) {
  const row = await findUpload(db, caller, id);
  if (row.id_auteur !== caller.id && !isStaff(caller)) {
    throw new Forbidden("Seuls l'auteur du fichier et le personnel peuvent le supprimer");
  }
  try {
    await db.deleteFrom('ptitspas.uploads').where('id', '=', id).execute();
  } catch (err) {
    if (isForeignKeyViolation(err))
      throw new Conflict('Fichier utilisé par un dossier, un événement ou un message : retirez-le avant');
    throw err;
  }
  // After the commit: a crash here leaves an object without a row, which storage:check removes.
  await storage.remove(row.cle);
}
