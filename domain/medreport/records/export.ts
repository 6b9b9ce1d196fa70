import type { Readable } from 'node:stream';
import { type Compilable, type Kysely, sql } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { type CsvColumn, type CsvStreamOptions, csvStream } from './csv.js';
import type { AnyRecordDefinition } from './definition.js';

type ExportRow = Record<string, unknown> & { uuid: string; created_at_iso: string };

const columnsOf = new WeakMap<AnyRecordDefinition, CsvColumn<ExportRow>[]>();

/** The export's columns: uuid, the record's columns, created_at. */
function csvColumns(def: AnyRecordDefinition): CsvColumn<ExportRow>[] {
  let columns = columnsOf.get(def);
  if (!columns) {
    columns = [
      { header: 'uuid', value: (r) => r.uuid },
      ...def.columns.map((c) => ({ header: c, value: (r: ExportRow) => r[c] as string | number | null })),
      { header: 'created_at', value: (r) => r.created_at_iso },
    ];
    columnsOf.set(def, columns);
  }
  return columns;
}

/** Rows a cursor fetch brings: one chunk of the response each (about 0.5 MB of CSV for patients). */
const BATCH_ROWS = 5000;

/**
 * Every live record as CSV (csv.ts), streamed from a cursor on `db` (an export slot's handle) a
 * fetch at a time: the stream closes once the cursor does (ended, failed, abandoned by the client
 * or stalled).
 */
export function exportRecords(db: Kysely<Database>, def: AnyRecordDefinition, options: CsvStreamOptions): Readable {
  // Only the exported columns, the timestamp already as ISO 8601 text: PostgreSQL formats it
  // once instead of node parsing it into a Date and printing it back.
  const query = db
    .selectFrom(def.table)
    .select(['uuid', ...def.columns])
    .select(sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`.as('created_at_iso'))
    .where('deleted_at', 'is', null)
    .orderBy('created_at')
    .orderBy('uuid');
  return csvStream(fetches<ExportRow>(db, query), csvColumns(def), options);
}

/**
 * The rows of `query` a cursor fetch at a time, the next fetch under way while a batch is written
 * (PostgreSQL reads rows as node formats them). Kysely's `stream()` yields rows one by one, an
 * await each; its executor gives each fetch whole.
 */
async function* fetches<Row>(db: Kysely<Database>, query: Compilable): AsyncGenerator<Row[]> {
  const cursor = db.getExecutor().stream(query.compile(), BATCH_ROWS);
  try {
    let next = cursor.next();
    for (;;) {
      const fetched = await next;
      if (fetched.done) return;
      next = cursor.next();
      yield fetched.value.rows as Row[];
    }
  } finally {
    // Closes the cursor (after a fetch under way), which gives the connection back.
    await cursor.return?.();
  }
}
