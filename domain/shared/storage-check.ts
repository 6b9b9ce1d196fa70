import { type Kysely, sql } from 'kysely';
import { type ListedObject, type Storage, TEMP_PREFIX } from '../../adapters/storage/index.js';
import type { Database } from '../../db/schema.js';

/** A row pointing at a key of the storage. */
export interface StorageReference {
  /** `schema.table`. */
  table: string;
  /** The row's id in that table (uuid, or the user's id as a string). */
  id: string;
  key: string;
}

export interface StorageReport {
  /** Objects older than the grace that no row references (abandoned `tmp/` writes included). */
  orphanObjects: ListedObject[];
  /** Rows whose object is not in storage: bytes lost, which no fix here can bring back. */
  missingObjects: StorageReference[];
  /** Objects listed (under the server's own prefixes). */
  scanned: number;
  /** Rows read that point at an object. */
  rows: number;
}

export interface CheckOptions {
  /**
   * Only objects last modified before this may be orphans: an upload in progress has its object
   * before its row commits (domain/shared/stored-files.ts), and must not be taken for one.
   */
  olderThan: Date;
  /** Rows read per query (keyset pagination); the default suits production. */
  batchSize?: number;
}

interface Source {
  table: string;
  /** Where this source's objects live: the listing is limited to these prefixes. */
  prefix: string;
  /**
   * Up to `limit` rows in keyset order, after the row whose position is `after` (from the
   * previous page); `last` is the position of this page's last row.
   */
  page(
    db: Kysely<Database>,
    after: string | undefined,
    limit: number,
  ): Promise<{ references: StorageReference[]; last?: string }>;
  /** Which of `keys` (all under `prefix`) a row of this table references now. */
  among(db: Kysely<Database>, keys: string[]): Promise<string[]>;
}

/**
 * Every table whose rows point at stored objects, and the key prefix of those objects (where they
 * are written: domain/medreport/files/files.ts newFileKey, routes/medreport/profile storeAvatar,
 * domain/ptitspas/uploads/writes.ts newUploadKey). A new kind of stored object must be added
 * here, or its objects are never checked (they are not removed either: only these prefixes are
 * listed, so an object of anything else in the same directory or bucket is left alone).
 */
const SOURCES: Source[] = [
  {
    // Every row, soft-deleted ones included: a soft-deleted file's bytes are still referenced.
    // Keyset on the primary key (organization_id, uuid).
    table: 'medreport.files',
    prefix: 'org_',
    async page(db, after, limit) {
      let query = db
        .selectFrom('medreport.files')
        .select(['organization_id', 'uuid', 'path'])
        .orderBy('organization_id')
        .orderBy('uuid')
        .limit(limit);
      if (after) {
        const [organizationId, uuid] = JSON.parse(after) as [number, string];
        query = query.where(sql<boolean>`(organization_id, uuid) > (${organizationId}::bigint, ${uuid}::uuid)`);
      }
      const rows = await query.execute();
      const last = rows.at(-1);
      return {
        references: rows.map((r) => ({ table: 'medreport.files', id: r.uuid, key: r.path })),
        last: last && JSON.stringify([Number(last.organization_id), last.uuid]),
      };
    },
    // medreport.files.path has no index: a scan per batch of keys.
    among: async (db, keys) =>
      (await db.selectFrom('medreport.files').select('path').where('path', 'in', keys).execute()).map((r) => r.path),
  },
  {
    // The column holds the name; the object is `avatars/<name>`. Keyset on the name itself, which
    // its partial unique index (migration 0005) orders.
    table: 'medreport.users',
    prefix: 'avatars/',
    async page(db, after, limit) {
      let query = db
        .selectFrom('medreport.users')
        .select(['id', 'avatar'])
        .where('avatar', 'is not', null)
        .orderBy('avatar')
        .limit(limit);
      if (after !== undefined) query = query.where('avatar', '>', after);
      const rows = await query.execute();
      return {
        references: rows.map((r) => ({ table: 'medreport.users', id: String(r.id), key: `avatars/${r.avatar}` })),
        last: rows.at(-1)?.avatar ?? undefined,
      };
    },
    async among(db, keys) {
      const names = keys.map((k) => k.slice('avatars/'.length));
      const rows = await db.selectFrom('medreport.users').select('avatar').where('avatar', 'in', names).execute();
      return rows.map((r) => `avatars/${r.avatar}`);
    },
  },
  {
    table: 'ptitspas.uploads',
    prefix: 'ptitspas/uploads/',
    async page(db, after, limit) {
      let query = db.selectFrom('ptitspas.uploads').select(['id', 'cle']).orderBy('id').limit(limit);
      if (after !== undefined) query = query.where('id', '>', after);
      const rows = await query.execute();
      return {
        references: rows.map((r) => ({ table: 'ptitspas.uploads', id: r.id, key: r.cle })),
        last: rows.at(-1)?.id,
      };
    },
    among: async (db, keys) =>
      (await db.selectFrom('ptitspas.uploads').select('cle').where('cle', 'in', keys).execute()).map((r) => r.cle),
  },
  {
    table: 'ptitspas.contrats',
    prefix: 'ptitspas/contrats/',
    async page(db, after, limit) {
      let query = db
        .selectFrom('ptitspas.contrats')
        .select(['id', 'document_cle'])
        .where('document_cle', 'is not', null)
        .orderBy('id')
        .limit(limit);
      if (after !== undefined) query = query.where('id', '>', after);
      const rows = await query.execute();
      return {
        references: rows.map((r) => ({ table: 'ptitspas.contrats', id: r.id, key: r.document_cle! })),
        last: rows.at(-1)?.id,
      };
    },
    among: async (db, keys) =>
      (await db.selectFrom('ptitspas.contrats').select('document_cle').where('document_cle', 'in', keys).execute()).map(
        (r) => r.document_cle!,
      ),
  },
];

/** The prefixes listed: every source's, and the backends' unfinished writes. */
const PREFIXES = [...SOURCES.map((s) => s.prefix), TEMP_PREFIX];
/** `org_` is a prefix of the listing; the server's own keys are `org_<id>/…`. */
const isOwnKey = (key: string) =>
  PREFIXES.some((p) => key.startsWith(p)) && (!key.startsWith('org_') || /^org_\d+\//.test(key));

const DEFAULT_BATCH = 5_000;

/** Every row pointing at an object, table by table, `batchSize` rows per query. */
async function* references(db: Kysely<Database>, batchSize: number): AsyncGenerator<StorageReference> {
  for (const source of SOURCES) {
    let after: string | undefined;
    for (;;) {
      const { references, last } = await source.page(db, after, batchSize);
      yield* references;
      if (references.length < batchSize) break;
      after = last;
    }
  }
}

/**
 * Row-level security would hide other organizations' files (the app role outside a tenant sees
 * none), and every MedReport object would then look orphaned: the check needs the table owner
 * (DATABASE_URL, as the CLI connects) or the cross-organization read handle.
 */
async function assertSeesEveryRow(db: Kysely<Database>) {
  const { rows } = await sql<{ table: string }>`
    select t.name as table from unnest(${SOURCES.map((s) => s.table)}::text[]) as t(name)
    where row_security_active(t.name) and coalesce(current_setting('app.cross_organization', true), '') <> 'read'`.execute(
    db,
  );
  if (rows.length > 0) {
    throw new Error(
      `the storage check needs a connection that sees every row of ${rows.map((r) => r.table).join(', ')} ` +
        '(row-level security hides some from this one): the database owner, as DATABASE_URL gives',
    );
  }
}

/**
 * Compares the storage with the rows pointing at it. Rows are read first, then the storage is
 * listed (under the server's own prefixes only), so an upload that commits meanwhile is either
 * read as a row or is newer than `olderThan`; a row whose object is not listed is read once more
 * at the end, so one deleted meanwhile (with its object) is not reported.
 *
 * Cost: the rows are streamed in batches by keyset (never a whole table in memory), and the keys
 * they reference are kept in one Set while the listing goes by (about 100 bytes a key: ~100 MB for
 * a million). The listing is one pass (S3: one request per 1,000 objects; local: a stat per file).
 * Missing objects are found from the listing, not one request per row.
 */
export async function checkStorage(
  db: Kysely<Database>,
  storage: Storage,
  { olderThan, batchSize = DEFAULT_BATCH }: CheckOptions,
): Promise<StorageReport> {
  await assertSeesEveryRow(db);
  const referenced = new Set<string>();
  let rows = 0;
  for await (const reference of references(db, batchSize)) {
    referenced.add(reference.key);
    rows++;
  }

  const orphanObjects: ListedObject[] = [];
  let scanned = 0;
  for (const prefix of PREFIXES) {
    for await (const object of storage.list(prefix)) {
      if (!isOwnKey(object.key)) continue;
      scanned++;
      // Each key is listed once: once seen, it leaves the set, which ends with the missing ones.
      if (referenced.delete(object.key)) continue;
      if (object.modified < olderThan) orphanObjects.push(object);
    }
  }

  const missingObjects: StorageReference[] = [];
  if (referenced.size > 0) {
    // The rows again, for their table and id, and to leave out those deleted since the first pass.
    for await (const reference of references(db, batchSize)) {
      if (!referenced.has(reference.key)) continue;
      // A key outside the prefixes listed was never looked at: asked for alone (there are none
      // unless a row was written by hand; one the storage refuses as a key counts as missing).
      if (!isOwnKey(reference.key) && (await storage.exists(reference.key).catch(() => false))) continue;
      missingObjects.push(reference);
    }
  }
  return { orphanObjects, missingObjects, scanned, rows };
}

export interface FixResult {
  /** The orphan objects removed. */
  removed: ListedObject[];
  /** Orphans of the report that a row references by now: left in place. */
  kept: ListedObject[];
  /** Orphans whose removal failed, with why. */
  failed: Array<{ object: ListedObject; error: string }>;
}

/**
 * Removes the orphan objects of `report` (never a row: a missing object cannot be fixed here).
 * Each is checked once more against the rows just before, so a report read a while ago never
 * removes an object a row has pointed at since.
 */
export async function fixStorage(db: Kysely<Database>, storage: Storage, report: StorageReport): Promise<FixResult> {
  const result: FixResult = { removed: [], kept: [], failed: [] };
  const BATCH = 1_000;
  for (let start = 0; start < report.orphanObjects.length; start += BATCH) {
    const batch = report.orphanObjects.slice(start, start + BATCH);
    const nowReferenced = await referencedAmong(
      db,
      batch.map((o) => o.key),
    );
    for (const object of batch) {
      if (nowReferenced.has(object.key)) {
        result.kept.push(object);
        continue;
      }
      try {
        await storage.remove(object.key);
        result.removed.push(object);
      } catch (err) {
        result.failed.push({ object, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }
  return result;
}

/** Which of `keys` a row references now, each asked of the table whose prefix it has. */
async function referencedAmong(db: Kysely<Database>, keys: string[]): Promise<Set<string>> {
  const found = await Promise.all(
    SOURCES.map((source) => {
      const mine = keys.filter((key) => key.startsWith(source.prefix));
      return mine.length > 0 ? source.among(db, mine) : [];
    }),
  );
  return new Set(found.flat());
}
