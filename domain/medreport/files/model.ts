import { Type } from '@sinclair/typebox';
import type { SyncedEntity } from '../records/mutation.js';
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
