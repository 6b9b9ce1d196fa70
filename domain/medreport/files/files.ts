import type { Kysely, Selectable } from 'kysely';
import type { Database, FilesTable } from '../../../db/schema.js';
import { uuidv7 } from '../../../db/uuid.js';
import { Invalid, NotFound } from '../../errors.js';
import { type MemberScope, mutate } from '../records/mutation.js';
import { fileEntity } from './model.js';

export type FileRow = Selectable<FilesTable>;

const OWNER_TABLES = {
  patient: 'medreport.patients',
  prescription: 'medreport.prescriptions',
  invoice: 'medreport.invoices',
} as const;
export type OwnerType = keyof typeof OWNER_TABLES;
// Own keys only: `owner_type=constructor` must not find Object.prototype's member.
export const isOwnerType = (value: string | undefined): value is OwnerType =>
  !!value && Object.hasOwn(OWNER_TABLES, value);

/** A file received (already in temporary storage), to be recorded. */
export interface Upload {
  ownerType: OwnerType;
  ownerUuid: string;
  originalName: string;
  mimeType: string;
  /** The extension of its stored name. */
  ext: string;
  size: number;
  checksum: string;
}

/**
 * Records an upload with the next version number for its owner and name, stored under a key of
 * the organization. `place(key)` moves the bytes there: the last step before the commit, so that
 * if it fails the row and its entries roll back.
 */
export async function recordUpload(
  scope: MemberScope,
  upload: Upload,
  place: (key: string) => Promise<void>,
): Promise<FileRow> {
  const { value } = await mutate(scope, async (m) => {
    const { trx } = m;
    // Writers of the organization one at a time from here: the owner cannot be deleted
    // under the upload, and versions of one name never collide.
    await m.lock();
    await assertOwner(trx, upload.ownerType, upload.ownerUuid);
    const previous = await trx
      .selectFrom('medreport.files')
      .select((eb) => eb.fn.max('file_version').as('version'))
      .where('owner_type', '=', upload.ownerType)
      .where('owner_uuid', '=', upload.ownerUuid)
      .where('original_name', '=', upload.originalName)
      .executeTakeFirst();
    const uuid = uuidv7();
    const now = new Date();
    const month = String(now.getUTCMonth() + 1).padStart(2, '0');
    const key = `org_${scope.organizationId}/${now.getUTCFullYear()}/${month}/${uuid}.${upload.ext}`;
    const [inserted] = await m.insert(fileEntity, [
      {
        uuid,
        owner_type: upload.ownerType,
        owner_uuid: upload.ownerUuid,
        original_name: upload.originalName,
        mime_type: upload.mimeType,
        size: upload.size,
        checksum: upload.checksum,
        path: key,
        file_version: (previous?.version ?? 0) + 1,
        created_by: scope.actor.id,
      },
    ]);
    await place(key);
    // Narrowed to the files table: the mutation wrote a files row (`returning *`).
    return inserted as FileRow;
  });
  return value;
}

async function assertOwner(db: Kysely<Database>, type: OwnerType, uuid: string): Promise<void> {
  const found = await db
    .selectFrom(OWNER_TABLES[type])
    .select('uuid')
    .where('uuid', '=', uuid)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!found) {
    throw new Invalid('Le propriétaire du fichier est introuvable dans votre organisation.', {
      owner_uuid: ['Introuvable dans votre organisation.'],
    });
  }
}

/** The live file `uuid`'s row; NotFound otherwise. */
export async function findFile(db: Kysely<Database>, uuid: string): Promise<FileRow> {
  const row = await db
    .selectFrom('medreport.files')
    .selectAll()
    .where('uuid', '=', uuid)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!row) throw new NotFound('Fichier introuvable.');
  return row;
}
