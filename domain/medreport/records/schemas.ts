import { type TSchema, Type } from '@sinclair/typebox';
import { Nullable } from '../../shared/schemas.js';

/** A field a client may omit, or send as null to clear it. */
export const Clearable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([Type.Null(), schema]));

export const Uuid = Type.String({ format: 'uuid' });
export const DateOnly = Type.String({ format: 'date' });
export const Timestamp = Type.String({ format: 'date-time' });
export const ShortText = Type.String({ maxLength: 255 });
export const LongText = Type.String({ maxLength: 10_000 });
/** Server-owned, for the record's life: printed on its PDF, checked at GET /api/verify/{code} (docs/documents.md). */
export const VerificationCode = Type.String({
  pattern: '^[0-9A-HJKMNP-TV-Z]{20}$',
  description: 'The code printed on the record’s PDF (grouped by five), for GET /api/verify/{code}; set by the server',
});

/** Fields every record answers with. */
export const RecordMeta = {
  uuid: Uuid,
  created_by: Nullable(Type.Integer({ description: 'Id of the user who created it' })),
  created_at: Timestamp,
  updated_at: Timestamp,
};
