import { Type } from '@sinclair/typebox';
import type { Selectable } from 'kysely';
import type { FilesTable } from '../../../db/schema.js';
import { StringEnum } from '../../schemas.js';
import type { SyncedEntity } from '../mutation.js';
import { Timestamp, Uuid } from '../records/schemas.js';

export const FileResource = Type.Object(
  {
    uuid: Uuid,
    owner_type: Type.String(),
    owner_uuid: Uuid,
    original_name: Type.String(),
    mime_type: Type.String({ description: 'Detected from the content' }),
    size: Type.Integer(),
    checksum: Type.String({ description: 'SHA-256, hex' }),
    file_version: Type.Integer({ description: '1, then +1 per upload of the same name to the same owner' }),
    created_at: Timestamp,
  },
  { $id: 'File' },
);

/** Files in the sync feed and the activity log (the bytes themselves never travel in the feed). */
export const fileEntity: SyncedEntity = {
  plural: 'files',
  table: 'medreport.files',
  entity: 'file',
  resource: FileResource,
  nameColumn: 'original_name',
};

export const UploadForm = Type.Object({
  file: Type.String({ format: 'binary' }),
  owner_type: StringEnum(['patient', 'prescription', 'invoice']),
  owner_uuid: Uuid,
});

export function toFileResource(row: Selectable<FilesTable>) {
  return {
    uuid: row.uuid,
    owner_type: row.owner_type,
    owner_uuid: row.owner_uuid,
    original_name: row.original_name,
    mime_type: row.mime_type,
    size: row.size,
    checksum: row.checksum,
    file_version: row.file_version,
    created_at: row.created_at.toISOString(),
  };
}
