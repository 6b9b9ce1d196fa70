import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { deviceOf } from '../mutation.js';

/**
 * Remembers where the caller's device stands, for /sync/status and for a push without a cursor
 * (on `db`: a push's own transaction). `seq`: the feed position it has everything up to, known
 * once a first sync's snapshot is complete.
 */
export async function touchDevice(
  db: Kysely<Database>,
  request: FastifyRequest,
  values: { pulled?: true; seq?: number; pushed?: true },
): Promise<void> {
  const now = new Date();
  const columns = {
    ...(values.pulled ? { last_pull_at: now } : {}),
    ...(values.seq !== undefined ? { last_pulled_seq: values.seq } : {}),
    ...(values.pushed ? { last_push_at: now } : {}),
  };
  await db
    .insertInto('medreport.sync_devices')
    .values({ user_id: request.user.id, device_id: deviceOf(request) ?? 'default', ...columns })
    .onConflict((oc) => oc.columns(['organization_id', 'user_id', 'device_id']).doUpdateSet(columns))
    .execute();
}
