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

/** Where a new file of `organizationId` is stored, and the id its row will have. */
export function newFileKey(organizationId: number): { uuid: string; key: string } {
  const uuid = uuidv7();
  const now = new Date();
  const month = String(now.getUTCMonth() + 1).padStart(2, '0');
  return { uuid, key: `org_${organizationId}/${now.getUTCFullYear()}/${month}/${uuid}` };
}

/** A file already in storage under `key`, to be recorded. */
export interface Upload {
  uuid: string;
  key: string;
  ownerType: OwnerType;
  ownerUuid: string;
  originalName: string;
  mimeType: string;
  size: number;
  checksum: string;
}

/** Records an upload with the next version number for its owner and name. */
export async function recordUpload(scope: MemberScope, upload: Upload): Promise<FileRow> {
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
    const [inserted] = await m.insert(fileEntity, [
      {
        uuid: upload.uuid,
        owner_type: upload.ownerType,
        owner_uuid: upload.ownerUuid,
        original_name: upload.originalName,
        mime_type: upload.mimeType,
        size: upload.size,
        checksum: upload.checksum,
        path: upload.key,
        file_version: (previous?.version ?? 0) + 1,
        created_by: scope.actor.id,
      },
    ]);
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
