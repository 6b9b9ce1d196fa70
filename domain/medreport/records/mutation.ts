import type { TObject } from '@sinclair/typebox';
import { type Kysely, type RawBuilder, type Selectable, sql, type Transaction } from 'kysely';
import { isoTimestamp } from '../../../db/iso-timestamp.js';
import type { Database, SyncEntity } from '../../../db/schema.js';

/**
 * The one path every tenant mutation takes (REST creates, updates and deletes of patients,
 * prescriptions, invoices and files, and every item of a sync push). Each write is ONE statement:
 * data-modifying CTEs write the rows, their activity-log entries and their change-feed entries
 * together, with the feed's `data` built from the written rows themselves. Nothing else writes
 * the activity log or the feed.
 *
 * Every such statement first takes a transaction-scoped advisory lock of the organization, held
 * until commit, and only then draws its feed `seq`s. No other transaction of the organization can
 * draw one before this one has committed, so within an organization `seq` order is commit order: a
 * reader that follows `seq` (domain/medreport/sync/) never sees a change and later finds an
 * earlier one appear behind it, as `updated_at > since` readers do when transactions commit out of
 * order. Writers of other organizations never wait for it.
 */

/** The tables of the synced entities. */
type SyncTable = `medreport.${SyncEntity}`;

/** A row as the mutation wrote or read it: one of the synced tables' rows. */
export type MutationRow = { [T in SyncTable]: Selectable<Database[T]> }[SyncTable];

/** A kind of record the feed carries (a record definition is one). */
export interface SyncedEntity {
  /** Its name in the feed and in URLs: `patients`. */
  plural: SyncEntity;
  table: SyncTable;
  /** For activity-log actions: `patient.created`. */
  entity: string;
  /** The resource the REST API answers for a row, the feed's `data`: each property is a column. */
  resource: TObject;
  /** The column the activity log shows as the record's name. */
  nameColumn: string;
}

const isTimestamp = (schema: unknown) => (schema as { format?: string }).format === 'date-time';
const isNullableTimestamp = (schema: unknown) => ((schema as { anyOf?: unknown[] }).anyOf ?? []).some(isTimestamp);

/** The resource of `row` as plain JSON: the schema's properties, dates as ISO 8601. */
export function resourceData(entity: SyncedEntity, row: Record<string, unknown>): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const key of Object.keys(entity.resource.properties)) {
    const value = row[key];
    data[key] = value instanceof Date ? value.toISOString() : (value ?? null);
  }
  return data;
}

/**
 * Each property of the entity's resource as PostgreSQL reads it from column `key` of `from` (a
 * table or alias; unqualified without), timestamps formatted as toISOString writes them: what the
 * API answers, with no timestamp parsed into a Date and formatted again in JavaScript.
 */
export function resourceColumns(entity: SyncedEntity, from?: string): Array<[key: string, value: RawBuilder<unknown>]> {
  return Object.entries(entity.resource.properties).map(([key, schema]) => {
    const column = from ? `${from}.${key}` : key;
    return [key, isTimestamp(schema) || isNullableTimestamp(schema) ? isoTimestamp(column) : sql.ref(column)];
  });
}

const resourceSqls = new WeakMap<SyncedEntity, RawBuilder<unknown>>();

/** The same resource built by PostgreSQL from a written row `w`, as a JSON object. */
function resourceSql(entity: SyncedEntity): RawBuilder<unknown> {
  const built = resourceSqls.get(entity);
  if (built) return built;
  const pairs = resourceColumns(entity, 'w').flatMap(([key, value]) => [sql.lit(key), value]);
  const expression = sql`jsonb_build_object(${sql.join(pairs)})`;
  resourceSqls.set(entity, expression);
  return expression;
}

/** What a push answers of a row it created: its uuid and `updated_at` (ISO 8601, milliseconds, `Z`). */
export interface WrittenSummary {
  uuid: string;
  updated_at: string;
}

/** A mutation's scope whose actor is a member of the organization, as writes of records need. */
export interface MemberScope extends MutationScope {
  /** Who acts: the activity log names them, a prescription's doctor is them by default. */
  actor: { id: number; uuid: string; name: string };
}

export interface MutationScope {
  /** The organization's handle (request.tenant.db): the plugin and row-level security confine it. */
  db: Kysely<Database>;
  organizationId: number;
  actor: { id: number; name: string };
  deviceId: string | null;
}

/**
 * The feed entries a mutation appended: `seq` from `first` to `last`. The sequence is shared by
 * all organizations, but the lock keeps any other entry of this organization out of the range.
 */
export interface ChangeRange {
  first: number;
  last: number;
}

type Verb = 'created' | 'updated' | 'deleted';

export class Mutation {
  #range: ChangeRange | undefined;
  #locked = false;

  constructor(
    /** For reads inside the mutation (reference checks, row locks); writes go through the methods. */
    readonly trx: Transaction<Database>,
    private readonly scope: MutationScope,
  ) {}

  /** What this mutation appended to the feed so far. */
  get changes(): ChangeRange | undefined {
    return this.#range;
  }

  /**
   * The organization's rows with these uuids (deleted ones included), read after taking its
   * lock: what a write decides from them cannot change before this mutation commits. Every write
   * takes the same lock first, so no two mutations ever wait for each other in opposite orders.
   * `foreign`: also which of the uuids the organization lacks exist in another one (a push's
   * organization_mismatch), in the same statement.
   */
  async lockedRows(
    entity: SyncedEntity,
    uuids: string[],
    { foreign = false } = {},
  ): Promise<{ rows: MutationRow[]; foreign: Set<string> }> {
    if (uuids.length === 0) return { rows: [], foreign: new Set() };
    await this.lock();
    // Only the rows found and the foreign uuids come back: a push of new records reads nothing.
    const isForeign = foreign
      ? sql`u.uuid in (select medreport.uuids_of_other_organizations(${entity.plural}, ${this.scope.organizationId}, ${uuids}::uuid[]))`
      : sql`false`;
    const { rows } = await sql<MutationRow & { mutation_asked: string }>`
      select t.*, u.uuid as mutation_asked
        from unnest(${uuids}::uuid[]) as u (uuid)
        left join ${sql.table(entity.table)} t on t.organization_id = ${this.scope.organizationId} and t.uuid = u.uuid
       where t.uuid is not null or ${isForeign}`.execute(this.trx);
    const found: MutationRow[] = [];
    const elsewhere = new Set<string>();
    for (const { mutation_asked: asked, ...row } of rows) {
      if (row.uuid) found.push(row as MutationRow);
      else elsewhere.add(asked);
    }
    return { rows: found, foreign: elsewhere };
  }

  /**
   * Takes the organization's lock now, in a statement of its own, so that what the mutation reads
   * next is what the previous holder committed: a statement reads the snapshot taken as it starts,
   * so a read in the statement that waits for the lock would miss it.
   */
  async lock(): Promise<void> {
    if (this.#locked) return;
    await this.#lock().execute(this.trx);
    this.#locked = true;
  }

  /**
   * Takes the organization's lock as lock() does, in a statement that then runs `statement`, which
   * reads the CTE `lock` (so that it runs once the lock is held): the lock and a first write in
   * one round trip.
   */
  async lockAnd<R>(statement: RawBuilder<R>): Promise<R[]> {
    const { rows } = await sql<R>`with lock as materialized (${this.#lock()}) ${statement}`.execute(this.trx);
    this.#locked = true;
    return rows;
  }

  #lock() {
    return sql`select pg_advisory_xact_lock(hashtextextended('medreport.changes:' || ${this.scope.organizationId}::text, 0))`;
  }

  /**
   * Inserts rows (`ifAbsent`: rows whose uuid exists are skipped); returns those inserted.
   * The rows travel as one JSON parameter expanded by PostgreSQL, so a 100-row batch is one small
   * statement. Columns come from the callers' own column lists, never from a request; the
   * organization is the mutation's, and row-level security's WITH CHECK holds it to the
   * connection's context.
   */
  async insert(
    entity: SyncedEntity,
    rows: Record<string, unknown>[],
    { ifAbsent = false } = {},
  ): Promise<MutationRow[]> {
    if (rows.length === 0) return [];
    return this.#write(entity, 'created', this.#inserting(entity, rows, ifAbsent), sql`w.*`);
  }

  /**
   * Inserts rows as insert() does; each comes back as what a push answers of it: its uuid and its
   * `updated_at` as toISOString writes it, taken from the feed entry's data, where PostgreSQL
   * formatted it already (no timestamp formatted twice, nor parsed and formatted again in node).
   */
  async insertSummarised(entity: SyncedEntity, rows: Record<string, unknown>[]): Promise<WrittenSummary[]> {
    if (rows.length === 0) return [];
    return this.#write(
      entity,
      'created',
      this.#inserting(entity, rows, false),
      sql`w.uuid, feed.resource_updated_at as updated_at`,
    );
  }

  #inserting(entity: SyncedEntity, rows: Record<string, unknown>[], ifAbsent: boolean): RawBuilder<unknown> {
    const columns = sql.join([...new Set(rows.flatMap(Object.keys))].map((c) => sql.ref(c)));
    const table = sql.table(entity.table);
    return sql`insert into ${table} (${columns}, organization_id)
          select ${columns}, ${this.scope.organizationId}::bigint
            from lock, jsonb_populate_recordset(null::${table}, ${JSON.stringify(rows)}::jsonb)
          ${ifAbsent ? sql`on conflict (organization_id, uuid) do nothing` : sql``}
          returning *`;
  }

  /** Changes a live row; `updated_at` is `at` (a sync item's own time), now by default. */
  async update(
    entity: SyncedEntity,
    uuid: string,
    values: Record<string, unknown>,
    at: Date = new Date(),
  ): Promise<MutationRow | undefined> {
    const set = Object.entries(values).map(([column, value]) => sql`${sql.ref(column)} = ${value}`);
    const [row] = await this.#write<MutationRow>(
      entity,
      'updated',
      sql`update ${sql.table(entity.table)} set ${sql.join([...set, sql`updated_at = ${at}`])}
            from lock
           where uuid = ${uuid} and organization_id = ${this.scope.organizationId} and deleted_at is null
          returning ${sql.table(entity.table)}.*`,
      sql`w.*`,
    );
    return row;
  }

  /** Soft-deletes live rows (tombstones stay for sync); returns those deleted. */
  async remove(entity: SyncedEntity, uuids: string[], at: Date = new Date()): Promise<MutationRow[]> {
    if (uuids.length === 0) return [];
    return this.#write<MutationRow>(
      entity,
      'deleted',
      sql`update ${sql.table(entity.table)} set deleted_at = ${at}, updated_at = ${at}
            from lock
           where uuid = any(${uuids}::uuid[]) and organization_id = ${this.scope.organizationId}
             and deleted_at is null
          returning ${sql.table(entity.table)}.*`,
      sql`w.*`,
    );
  }

  /**
   * Runs `work` in a savepoint: on failure its rows, activity and feed entries are undone (and the
   * error returned), everything else of the mutation stands.
   */
  async attempt<T>(work: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
    const range = this.#range;
    await sql`savepoint mutation_item`.execute(this.trx);
    try {
      const value = await work();
      await sql`release savepoint mutation_item`.execute(this.trx);
      return { ok: true, value };
    } catch (error) {
      await sql`rollback to savepoint mutation_item`.execute(this.trx);
      this.#range = range;
      return { ok: false, error };
    }
  }

  /**
   * `written` (a data-modifying statement reading `lock`) with its activity-log and feed entries;
   * each written row comes back as `selected` (columns of `w`, the written rows, or of `feed`,
   * its entry: `seq`, and `resource_updated_at` as the entry's data has it).
   */
  async #write<R>(
    entity: SyncedEntity,
    verb: Verb,
    written: RawBuilder<unknown>,
    selected: RawBuilder<unknown>,
  ): Promise<R[]> {
    const { organizationId, actor, deviceId } = this.scope;
    const deleted = verb === 'deleted';
    const { rows } = await sql<R & { feed_seq: number }>`
      with lock as materialized (${this.#lock()}), w as (${written}
      ), activity as (
        insert into medreport.activity_log
          (organization_id, user_id, user_name, action, entity_type, entity_uuid, entity_name)
        select ${organizationId}, ${actor.id}, ${actor.name}, ${`${entity.entity}.${verb}`}, ${entity.entity},
               w.uuid, ${sql.ref(`w.${entity.nameColumn}`)}::text
          from w
      ), feed as (
        insert into medreport.changes (organization_id, entity, uuid, action, data, user_id, device_id)
        select ${organizationId}, ${entity.plural}, w.uuid, ${deleted ? 'delete' : 'upsert'},
               ${deleted ? sql`null` : resourceSql(entity)}, ${actor.id}, ${deviceId}
          from w
        returning uuid, seq, data ->> 'updated_at' as resource_updated_at
      )
      select ${selected}, feed.seq as feed_seq
        from w join feed using (uuid)`.execute(this.trx);
    for (const { feed_seq: seq } of rows) {
      this.#range = { first: Math.min(this.#range?.first ?? seq, seq), last: Math.max(this.#range?.last ?? seq, seq) };
    }
    return rows;
  }
}

/**
 * Runs `work` as one mutation: one transaction. Resolves with what `work` returned and the feed
 * range it wrote, once committed.
 */
export async function mutate<T>(
  scope: MutationScope,
  work: (mutation: Mutation) => Promise<T>,
): Promise<{ value: T; changes: ChangeRange | undefined }> {
  return scope.db.transaction().execute(async (trx) => {
    const mutation = new Mutation(trx, scope);
    const value = await work(mutation);
    return { value, changes: mutation.changes };
  });
}
