import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { ChangeRange } from '../../../domain/medreport/records/mutation.js';
import { type Cursor, decodeCursor, encodeCursor } from '../../../domain/medreport/sync/cursor.js';
import { type SyncDevice, touchDevice } from '../../../domain/medreport/sync/devices.js';
import { ENTITIES, RESOURCES } from '../../../domain/medreport/sync/entities.js';
import { pruneChanges } from '../../../domain/medreport/sync/prune.js';
import { pull, SYNC_ENTITIES } from '../../../domain/medreport/sync/pull.js';
import { push } from '../../../domain/medreport/sync/push.js';
import type { PushBody } from '../../../domain/medreport/sync/push-types.js';
import { syncStatus } from '../../../domain/medreport/sync/status.js';
import { errorResponses } from '../../../plugins/errors.js';
import { HOUR_MS } from '../../../plugins/jobs.js';
import { byUser } from '../../../plugins/medreport/auth.js';
import { deviceOf, mutationScope } from '../mutation-scope.js';
import { BatchBody, batchResponse, ChangesQuery, DeviceHeaders, pullResponse, SyncStatus } from './schemas.js';
import { itemValidator } from './validation.js';

/** After a push, pull from where the device was (`current`), stepping over the batch's own entries. */
function nextCursor(current: Cursor, own: ChangeRange | undefined): Cursor {
  if (!own || current.kind === 'snapshot') return current;
  return { kind: 'changes', seq: current.seq, skip: [own.first, own.last] };
}

/** The caller's device. */
const deviceOfCaller = (request: FastifyRequest): SyncDevice => ({
  organizationId: request.tenant.organizationId,
  userId: request.user.id,
  deviceId: deviceOf(request),
});

/**
 * Offline sync for the Flutter app (docs/sync.md): pull the organization's changes after a
 * commit-ordered cursor, push batches of items applied idempotently, and the device's status.
 */
const syncRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const retentionMs = app.config.syncRetentionDays * 86_400_000;
  const security = [{ bearerAuth: [] }];
  const tags = ['sync'];
  // The spec's limit for /api/sync/*: one counter for the three routes.
  app.addHook('onRequest', app.limit('sync', { max: 60, timeWindow: '1 hour', per: byUser }));

  // Changes older than the retention go, every hour; clients behind them resync from scratch.
  app.jobs.every('sync changes past their retention pruned', HOUR_MS, () =>
    // Every organization's changes: the unscoped handle, outside any request.
    pruneChanges(app.systemDb, new Date(Date.now() - retentionMs)),
  );

  app.get(
    '/sync/changes',
    {
      schema: {
        operationId: 'syncChanges',
        tags,
        summary: 'Pull the organization’s changes after a cursor, in commit order (paged)',
        security,
        querystring: ChangesQuery,
        headers: DeviceHeaders,
        response: { 200: pullResponse(RESOURCES), ...errorResponses('medreport', 401, 403, 410, 422, 429) },
      },
    },
    async (request) => {
      const { since, entities = SYNC_ENTITIES, limit } = request.query;
      const page = await pull(request.tenant.db, ENTITIES, { since, entities, limit });
      // Mid-snapshot, the device does not yet have everything up to the watermark.
      const seq = page.cursor.kind === 'changes' ? page.cursor.seq : undefined;
      await touchDevice(request.tenant.db, deviceOfCaller(request), { pulled: true, seq });
      return { cursor: encodeCursor(page.cursor), has_more: page.hasMore, changes: page.changes };
    },
  );

  app.post(
    '/sync/batch',
    {
      schema: {
        operationId: 'syncBatch',
        tags,
        summary: 'Push offline changes: each item applied by uuid, idempotently, last writer wins on updated_at',
        security,
        headers: DeviceHeaders,
        body: BatchBody,
        response: { 200: batchResponse(RESOURCES), ...errorResponses('medreport', 401, 403, 410, 413, 415, 422, 429) },
      },
    },
    async (request) => {
      const body = request.body as PushBody & { cursor?: string };
      const sent: Cursor | undefined = body.cursor ? decodeCursor(body.cursor) : undefined;
      const { outcome, changes, device } = await push(mutationScope(request), body, ENTITIES, itemValidator, (err) =>
        request.log.warn({ err }, 'sync batch refused by the database: replaying it item by item'),
      );
      const cursor = nextCursor(sent ?? device, changes);
      return { cursor: encodeCursor(cursor), ...outcome };
    },
  );

  app.get(
    '/sync/status',
    {
      schema: {
        operationId: 'syncStatus',
        tags,
        summary: 'The calling device’s sync state: pending changes, refused items, last sync',
        security,
        headers: DeviceHeaders,
        response: { 200: SyncStatus, ...errorResponses('medreport', 401, 403, 422, 429) },
      },
    },
    async (request) => {
      return syncStatus(request.tenant.db, deviceOfCaller(request));
    },
  );
};

export default syncRoutes;
