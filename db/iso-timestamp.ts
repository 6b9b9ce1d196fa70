import { type RawBuilder, sql } from 'kysely';

/** A timestamptz `column` as text the way JavaScript's toISOString writes it (UTC, milliseconds, `Z`). */
export const isoTimestamp = (column: string): RawBuilder<string> =>
  sql<string>`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
