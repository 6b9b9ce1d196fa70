import { type TObject, Type } from '@sinclair/typebox';
import { Timestamp, Uuid } from '../../../domain/medreport/records/schemas.js';
import { SYNC_ENTITIES } from '../../../domain/medreport/sync/pull.js';
import { Nullable, StringEnum } from '../../../domain/shared/schemas.js';

const Entities = StringEnum(SYNC_ENTITIES);

export const ChangesQuery = Type.Object({
  since: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 512,
      description:
        'The `cursor` of a previous answer; or an ISO 8601 instant for a first sync from then; absent: everything',
    }),
  ),
  entities: Type.Optional(
    Type.Array(Entities, {
      minItems: 1,
      maxItems: 4,
      uniqueItems: true,
      description:
        '`entities[]=patients&entities[]=files`: which ones (all by default); keep the same list with a cursor',
    }),
  ),
  limit: Type.Integer({
    minimum: 1,
    maximum: 1000,
    default: 500,
    description: 'Changes per page, all entities together',
  }),
});

export const DeviceHeaders = Type.Object({
  'x-device-id': Type.Optional(
    Type.String({ pattern: '^[\\w.:-]{1,100}$', description: 'The calling device, for /sync/status (optional)' }),
  ),
});

const changesOf = (resource: TObject) =>
  Type.Array(
    Type.Object({
      uuid: Uuid,
      action: StringEnum(['upsert', 'delete']),
      data: Nullable(Type.Ref(resource)),
    }),
  );

export function pullResponse(resources: Record<(typeof SYNC_ENTITIES)[number], TObject>) {
  return Type.Object({
    cursor: Type.String({ description: 'Opaque: send it back as `since`' }),
    has_more: Type.Boolean({ description: 'More changes are waiting: pull again with the new cursor' }),
    changes: Type.Object(Object.fromEntries(SYNC_ENTITIES.map((e) => [e, Type.Optional(changesOf(resources[e]))])), {
      description: 'One list per requested entity, in commit order; `data` is null for a delete',
    }),
  });
}

/**
 * An item is validated on its own (one bad item must not fail the batch), so the batch's schema
 * only bounds it; see docs/sync.md for each entity's item.
 */
const Item = Type.Object(
  {},
  {
    additionalProperties: true,
    description:
      'The record as the REST API takes it, with its `uuid`, its `updated_at` (when the device changed it) ' +
      'and `deleted: true` to delete it. Server-owned fields are ignored.',
  },
);

export const BatchBody = Type.Object({
  cursor: Type.Optional(
    Type.String({
      maxLength: 512,
      description: 'The device’s current pull cursor: the answer’s cursor then skips this batch’s own writes',
    }),
  ),
  ...Object.fromEntries(SYNC_ENTITIES.map((e) => [e, Type.Optional(Type.Array(Item, { maxItems: 100 }))])),
});

const ItemResult = (resource: TObject) =>
  Type.Object({
    uuid: Uuid,
    status: StringEnum(['ok', 'conflict']),
    updated_at: Nullable(Timestamp),
    data: Type.Optional(Nullable(Type.Ref(resource, { description: 'On a conflict: the server’s current record' }))),
  });

export function batchResponse(resources: Record<(typeof SYNC_ENTITIES)[number], TObject>) {
  return Type.Object({
    cursor: Type.String({ description: 'Pull from here next: everything not yet pulled, without this batch' }),
    results: Type.Object(Object.fromEntries(SYNC_ENTITIES.map((e) => [e, Type.Array(ItemResult(resources[e]))]))),
    errors: Type.Array(
      Type.Object({
        entity: Entities,
        uuid: Nullable(Uuid),
        code: StringEnum(['invalid', 'organization_mismatch', 'unsupported', 'failed']),
        message: Type.String(),
        errors: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
      }),
    ),
  });
}

export const SyncStatus = Type.Object({
  pending_count: Type.Integer({ description: 'Changes committed since this device last pulled' }),
  error_count: Type.Integer({ description: 'Items of this device’s pushes that were refused' }),
  last_sync_at: Nullable(Timestamp),
  errors: Type.Array(
    Type.Object({
      timestamp: Timestamp,
      message: Type.String(),
      metadata: Type.Object({}, { additionalProperties: true }),
    }),
    { description: 'The 20 most recent, newest first' },
  ),
});
