import { Type } from '@sinclair/typebox';
import type { Selectable } from 'kysely';
import type { FilesTable } from '../../../db/schema.js';
import { FileResource } from '../../../domain/medreport/files/model.js';
import { Uuid } from '../../../domain/medreport/records/schemas.js';
import { StringEnum } from '../../../domain/shared/schemas.js';

export { FileResource };

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
