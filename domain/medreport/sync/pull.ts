import type { Kysely } from 'kysely';
import type { Database, SyncEntity } from '../../../db/schema.js';
import { Gone, Invalid } from '../../errors.js';
import { resourceData, type SyncedEntity } from '../records/mutation.js';
import { type Cursor, decodeCursor, positionOf } from './cursor.js';

/** The synced entities, in the order a snapshot reads them (cursors index this list). */
export const SYNC_ENTITIES = [
  'patients',
  'prescriptions',
  'invoices',
  'files',
] as const satisfies readonly SyncEntity[];

interface Change {
  uuid: string;
  action: 'upsert' | 'delete';
  data: Record<string, unknown> | null;
}

export interface PullPage {
  cursor: Cursor;
  hasMore: boolean;
  changes: Partial<Record<SyncEntity, Change[]>>;
}

export interface PullRequest {
  /** A cursor from an earlier answer, an ISO 8601 instant (first sync), or nothing (everything). */
  since?: string;
  entities: readonly SyncEntity[];
  limit: number;
}

/** Where the organization's pruned history ends: its last pruned change, and when it was made. */
interface Horizon {
  seq: number;
  changedAt: Date;
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T/;

const resyncNeeded = () =>
  new Gone(
    'Des modifications postérieures à ce point ne sont plus conservées : resynchronisez depuis le début (sans « since »).',
  );

/**
 * One page of the organization's history after `since`, at most `limit` changes (docs/sync.md).
 * `db` is the organization's handle: every query here is confined to it.
 */
export async function pull(
  db: Kysely<Database>,
  entities: Record<SyncEntity, SyncedEntity>,
  request: PullRequest,
): Promise<PullPage> {
  const wanted = SYNC_ENTITIES.filter((e) => request.entities.includes(e));
  const horizon = await horizonOf(db);
  const cursor = await startOf(db, request.since, horizon);
  if (positionOf(cursor) < (horizon?.seq ?? 0)) throw resyncNeeded();
  const changes = Object.fromEntries(wanted.map((e) => [e, [] as Change[]])) as PullPage['changes'];
  return cursor.kind === 'snapshot'
    ? snapshotPage(db, entities, wanted, cursor, request.limit, changes)
    : changesPage(db, wanted, cursor, request.limit, changes);
}

async function horizonOf(db: Kysely<Database>): Promise<Horizon | undefined> {
  const row = await db.selectFrom('medreport.sync_horizons').select(['seq', 'changed_at']).executeTakeFirst();
  return row && { seq: row.seq, changedAt: row.changed_at };
}

/** The cursor `since` stands for: a snapshot without it, a feed position for an instant. */
async function startOf(db: Kysely<Database>, since: string | undefined, horizon?: Horizon): Promise<Cursor> {
  if (since === undefined) return { kind: 'snapshot', watermark: await lastSeq(db, horizon), entity: 0, after: null };
  if (!INSTANT.test(since)) return decodeCursor(since);
  const at = new Date(since);
  if (Number.isNaN(at.getTime())) throw new Invalid('Date « since » invalide.', { since: ['Date invalide.'] });
  return { kind: 'changes', seq: await positionAt(db, at, horizon) };
}

/**
 * The feed position of an instant: after the organization's last change made before it. Pruning
 * removes a prefix of the feed (the oldest changes), so when the last pruned change was made
 * before `at`, every pruned change was, and the position is at least the horizon; when it was
 * made at or after `at`, a change the client needs is gone: 410.
 */
async function positionAt(db: Kysely<Database>, at: Date, horizon?: Horizon): Promise<number> {
  if (horizon && horizon.changedAt >= at) throw resyncNeeded();
  const before = await db
    .selectFrom('medreport.changes')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('changed_at', '<', at)
    .executeTakeFirst();
  return Math.max(before?.seq ?? 0, horizon?.seq ?? 0);
}

/** The organization's position in the feed now: its last `seq`, or its horizon once all was pruned. */
async function lastSeq(db: Kysely<Database>, horizon: Pick<Horizon, 'seq'> | undefined): Promise<number> {
  const last = await db
    .selectFrom('medreport.changes')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  return Math.max(last?.seq ?? 0, horizon?.seq ?? 0);
}

/**
 * A first sync: the live rows themselves, entity by entity in uuid order (the primary key's
 * order, so each page is an index range scan). Whatever changes meanwhile is committed after the
 * watermark and reaches the client from the feed once the snapshot is done.
 */
async function snapshotPage(
  db: Kysely<Database>,
  entities: Record<SyncEntity, SyncedEntity>,
  wanted: SyncEntity[],
  cursor: Extract<Cursor, { kind: 'snapshot' }>,
  limit: number,
  changes: PullPage['changes'],
): Promise<PullPage> {
  let { entity: index, after } = cursor;
  let remaining = limit;
  for (; index < SYNC_ENTITIES.length; index++, after = null) {
    const name = SYNC_ENTITIES[index]!;
    if (!wanted.includes(name)) continue;
    const entity = entities[name];
    let query = db.selectFrom(entity.table).selectAll().where('deleted_at', 'is', null);
    if (after) query = query.where('uuid', '>', after);
    const rows = await query.orderBy('uuid').limit(remaining).execute();
    changes[name]!.push(
      ...rows.map((row) => ({ uuid: row.uuid, action: 'upsert' as const, data: resourceData(entity, row) })),
    );
    remaining -= rows.length;
    if (remaining === 0) {
      return {
        cursor: { kind: 'snapshot', watermark: cursor.watermark, entity: index, after: rows.at(-1)!.uuid },
        hasMore: true,
        changes,
      };
    }
  }
  const next = await db
    .selectFrom('medreport.changes')
    .select('seq')
    .where('seq', '>', cursor.watermark)
    .where('entity', 'in', wanted)
    .limit(1)
    .executeTakeFirst();
  return { cursor: { kind: 'changes', seq: cursor.watermark }, hasMore: next !== undefined, changes };
}

/**
 * The feed's entries after `cursor`, in `seq` (commit) order, at most `limit`: a range scan of the
 * primary key (organization_id, seq) that stops at the limit, so a page costs the same however
 * long the history behind or ahead of it (tests/medreport/sync.test.ts checks the plan).
 */
export function feedQuery(
  db: Kysely<Database>,
  wanted: readonly SyncEntity[],
  cursor: Extract<Cursor, { kind: 'changes' }>,
  limit: number,
) {
  const { skip } = cursor;
  let query = db
    .selectFrom('medreport.changes')
    .select(['seq', 'entity', 'uuid', 'action', 'data'])
    .where('seq', '>', cursor.seq)
    .where('entity', 'in', wanted);
  if (skip) query = query.where((eb) => eb.or([eb('seq', '<', skip[0]), eb('seq', '>', skip[1])]));
  return query.orderBy('seq').limit(limit);
}

/** One page of the feed after the cursor. */
async function changesPage(
  db: Kysely<Database>,
  wanted: SyncEntity[],
  cursor: Extract<Cursor, { kind: 'changes' }>,
  limit: number,
  changes: PullPage['changes'],
): Promise<PullPage> {
  const skip = cursor.skip && cursor.skip[1] > cursor.seq ? cursor.skip : undefined;
  const rows = await feedQuery(db, wanted, { ...cursor, skip }, limit + 1).execute();
  const page = rows.slice(0, limit);
  for (const row of page) {
    changes[row.entity]!.push({
      uuid: row.uuid,
      action: row.action,
      data: row.action === 'delete' ? null : (row.data as Record<string, unknown>),
    });
  }
  let seq = page.at(-1)?.seq ?? cursor.seq;
  // Nothing else before the end of the client's own range: the cursor may step over it.
  if (skip && page.length === 0) seq = Math.max(seq, skip[1]);
  const keep = skip && skip[1] > seq ? skip : undefined;
  return { cursor: { kind: 'changes', seq, ...(keep ? { skip: keep } : {}) }, hasMore: rows.length > limit, changes };
}
