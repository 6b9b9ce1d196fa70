import { type TSchema, Type } from '@sinclair/typebox';
import { Nullable } from '../../shared/schemas.js';

/** A field a client may omit, or send as null to clear it. */
export const Clearable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([Type.Null(), schema]));

export const Uuid = Type.String({ format: 'uuid' });
export const DateOnly = Type.String({ format: 'date' });
export const Timestamp = Type.String({ format: 'date-time' });
export const ShortText = Type.String({ maxLength: 255 });
export const LongText = Type.String({ maxLength: 10_000 });

/** Fields every record answers with. */
export const RecordMeta = {
  uuid: Uuid,
  created_by: Nullable(Type.Integer({ description: 'Id of the user who created it' })),
  created_at: Timestamp,
  updated_at: Timestamp,
};
