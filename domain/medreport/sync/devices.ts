import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import type { Cursor } from './cursor.js';
import { latestSeq } from './pull.js';

/** A user's device, as X-Device-Id names it (null: the user's default device). */
export interface SyncDevice {
  userId: number;
  deviceId: string | null;
}

/**
 * Remembers where the caller's device stands, for /sync/status and for a push without a cursor
 * (on `db`: a push's own transaction). `seq`: the feed position it has everything up to, known
 * once a first sync's snapshot is complete.
 */
export async function touchDevice(
  db: Kysely<Database>,
  device: SyncDevice,
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
    .values({ user_id: device.userId, device_id: device.deviceId ?? 'default', ...columns })
    .onConflict((oc) => oc.columns(['organization_id', 'user_id', 'device_id']).doUpdateSet(columns))
    .execute();
}

/**
 * Where a device that sent no cursor stands: its last recorded pull; never seen pulling, nowhere
 * (a full sync, as a pull without `since`).
 */
export async function lastPulled(db: Kysely<Database>, device: SyncDevice): Promise<Cursor> {
  const row = await db
    .selectFrom('medreport.sync_devices')
    .select('last_pulled_seq')
    .where('user_id', '=', device.userId)
    .where('device_id', '=', device.deviceId ?? 'default')
    .executeTakeFirst();
  const seq = row?.last_pulled_seq;
  if (seq !== null && seq !== undefined) return { kind: 'changes', seq: Number(seq) };
  return { kind: 'snapshot', watermark: await latestSeq(db), entity: 0, after: null };
}
