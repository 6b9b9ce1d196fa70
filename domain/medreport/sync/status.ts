import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import type { SyncDevice } from './devices.js';

export interface SyncStatus {
  pending_count: number;
  error_count: number;
  last_sync_at: string | null;
  errors: Array<{ timestamp: string; message: string; metadata: Record<string, unknown> }>;
}

/** The device's sync state: changes it has not pulled, items of its pushes refused, its last sync. */
export async function syncStatus(db: Kysely<Database>, { userId, deviceId }: SyncDevice): Promise<SyncStatus> {
  const device = deviceId ?? 'default';
  const state = await db
    .selectFrom('medreport.sync_devices')
    .selectAll()
    .where('user_id', '=', userId)
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
      .where('user_id', '=', userId)
      .where('device_id', '=', device)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('medreport.sync_errors')
      .select(['occurred_at', 'message', 'metadata'])
      .where('user_id', '=', userId)
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
      // jsonb: the metadata push.ts wrote, an object.
      metadata: e.metadata as Record<string, unknown>,
    })),
  };
}
