import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { TObject } from '@sinclair/typebox';
import { sql } from 'kysely';
import type { SyncEntity } from '../../../db/schema.js';
import { errorResponses } from '../../../plugins/errors.js';
import { byUser } from '../../../plugins/medreport/auth.js';
import { hourly } from '../../../plugins/periodic.js';
import { fileEntity } from '../files/schemas.js';
import { deviceOf, type ChangeRange, type SyncedEntity } from '../mutation.js';
import { invoiceRecords } from '../invoices/index.js';
import { patientRecords } from '../patients/index.js';
import { prescriptionRecords } from '../prescriptions/index.js';
import { encodeCursor, decodeCursor, type Cursor } from './cursor.js';
import { latestSeq, pull, SYNC_ENTITIES } from './pull.js';
import { touchDevice } from './devices.js';
import { push, type PushBody } from './push.js';
import { BatchBody, batchResponse, ChangesQuery, DeviceHeaders, pullResponse, SyncStatus } from './schemas.js';

const ENTITIES: Record<SyncEntity, SyncedEntity> = {
  patients: patientRecords,
  prescriptions: prescriptionRecords,
  invoices: invoiceRecords,
  files: fileEntity,
};
const RESOURCES = Object.fromEntries(SYNC_ENTITIES.map((e) => [e, ENTITIES[e].resource])) as Record<
  SyncEntity,
  TObject
>;

/** After a push, pull from where the device was (`current`), stepping over the batch's own entries. */
function nextCursor(current: Cursor, own: ChangeRange | undefined): Cursor {
  if (!own || current.kind === 'snapshot') return current;
  return { kind: 'changes', seq: current.seq, skip: [own.first, own.last] };
}

/**
 * Where a device that sent no cursor stands: its last recorded pull; never seen pulling, nowhere
 * (a full sync, as a pull without `since`).
 */
async function lastPulled(request: FastifyRequest): Promise<Cursor> {
  const { db } = request.tenant;
  const device = await db
    .selectFrom('medreport.sync_devices')
    .select('last_pulled_seq')
    .where('user_id', '=', request.user.id)
    .where('device_id', '=', deviceOf(request) ?? 'default')
    .executeTakeFirst();
  const seq = device?.last_pulled_seq;
  if (seq !== null && seq !== undefined) return { kind: 'changes', seq: Number(seq) };
  return { kind: 'snapshot', watermark: await latestSeq(db), entity: 0, after: null };
}

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
  hourly(app, 'sync changes past their retention pruned', async () => {
    const before = new Date(Date.now() - retentionMs);
    const { rows } = await sql<{ n: number }>`select medreport.prune_sync_changes(${before}) as n`.execute(app.systemDb);
    return rows[0]!.n;
  });

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
      await touchDevice(request.tenant.db, request, { pulled: true, seq });
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
      const { outcome, changes } = await push(request, body, ENTITIES);
      const cursor = nextCursor(sent ?? (await lastPulled(request)), changes);
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
      const { db } = request.tenant;
      const device = deviceOf(request) ?? 'default';
      const state = await db
        .selectFrom('medreport.sync_devices')
        .selectAll()
        .where('user_id', '=', request.user.id)
        .where('device_id', '=', device)
        .executeTakeFirst();
      const [pending, failures, recent] = await Promise.all([
        db
          .selectFrom('medreport.changes')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('seq', '>', state?.last_pulled_seq ?? 0)
          .executeTakeFirstOrThrow(),
        db
          .selectFrom('medreport.sync_errors')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('user_id', '=', request.user.id)
          .where('device_id', '=', device)
          .executeTakeFirstOrThrow(),
        db
          .selectFrom('medreport.sync_errors')
          .select(['occurred_at', 'message', 'metadata'])
          .where('user_id', '=', request.user.id)
          .where('device_id', '=', device)
          .orderBy('occurred_at', 'desc')
          .orderBy('id', 'desc')
          .limit(20)
          .execute(),
      ]);
      const times = [state?.last_pull_at, state?.last_push_at].filter((t): t is Date => t instanceof Date);
      return {
        pending_count: pending.n,
        error_count: failures.n,
        last_sync_at: times.length ? new Date(Math.max(...times.map((t) => t.getTime()))).toISOString() : null,
        errors: recent.map((e) => ({
          timestamp: e.occurred_at.toISOString(),
          message: e.message,
          metadata: e.metadata as Record<string, unknown>,
        })),
      };
    },
  );
};

export default syncRoutes;
