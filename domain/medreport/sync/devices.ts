import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../../../db/schema.js';
import type { Mutation } from '../records/mutation.js';
import type { Cursor } from './cursor.js';

/** A user's device, as X-Device-Id names it (null: the user's default device). */
export interface SyncDevice {
  organizationId: number;
  userId: number;
  deviceId: string | null;
}

/**
 * Remembers where the caller's device stands, for /sync/status and for a push without a cursor.
 * `seq`: the feed position it has everything up to, known once a first sync's snapshot is complete.
 */
export async function touchDevice(
  db: Kysely<Database>,
  device: SyncDevice,
  values: { pulled?: true; seq?: number },
): Promise<void> {
  await deviceWrite(device, values, sql``).execute(db);
}

interface DeviceStanding {
  last_pulled_seq: number | null;
  watermark: number | null;
}

/**
 * A push's record of the device, in the same statement as the mutation's organization lock (one
 * round trip less per push), answering where the device stands, for a push that sent no cursor:
 * its last pull; for a device never seen pulling, the feed's end (PostgreSQL evaluates a CASE's
 * subqueries only for the branch taken) as the statement saw it before the lock: at worst older,
 * so that the client pulls a few changes twice, never misses one.
 */
export async function recordPush(m: Mutation, device: SyncDevice): Promise<Cursor> {
  const { organizationId } = device;
  const [row] = await m.lockAnd(
    sql<DeviceStanding>`${deviceWrite(device, { pushed: true }, sql`from lock`)}
      returning last_pulled_seq, case when last_pulled_seq is null then greatest(
        (select max(seq) from medreport.changes where organization_id = ${organizationId}),
        (select seq from medreport.sync_horizons where organization_id = ${organizationId}), 0) end as watermark`,
  );
  const { last_pulled_seq: seq, watermark } = row!;
  if (seq !== null) return { kind: 'changes', seq };
  // Nowhere: a full sync, as a pull without `since`.
  return { kind: 'snapshot', watermark: watermark ?? 0, entity: 0, after: null };
}

/** The device's row written; `from`: what the values are selected from (the mutation's `lock`, or nothing). */
function deviceWrite(
  device: SyncDevice,
  values: { pulled?: true; seq?: number; pushed?: true },
  from: RawBuilder<unknown>,
): RawBuilder<unknown> {
  const { organizationId } = device;
  const now = new Date();
  // Each value typed: selected (not in VALUES), a parameter would reach PostgreSQL as text.
  const set: Array<[column: string, value: unknown, type: 'timestamptz' | 'bigint']> = [];
  if (values.pulled) set.push(['last_pull_at', now, 'timestamptz']);
  if (values.seq !== undefined) set.push(['last_pulled_seq', values.seq, 'bigint']);
  if (values.pushed) set.push(['last_push_at', now, 'timestamptz']);
  return sql`
    insert into medreport.sync_devices (organization_id, user_id, device_id, ${sql.join(set.map(([column]) => sql.ref(column)))})
    select ${organizationId}::bigint, ${device.userId}::bigint, ${device.deviceId ?? 'default'}::text,
           ${sql.join(set.map(([, value, type]) => sql`${value}::${sql.raw(type)}`))} ${from}
    on conflict (organization_id, user_id, device_id)
      do update set ${sql.join(set.map(([column]) => sql`${sql.ref(column)} = ${sql.ref(`excluded.${column}`)}`))}`;
}
