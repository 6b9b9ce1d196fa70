import type { ColumnType } from 'kysely';

/** Read as Date; written as Date or ISO string; defaulted by the database on insert. */
export type CreatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
export type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** `date` columns travel as 'YYYY-MM-DD' strings (see db/connection.ts). */
export type DateOnly = string;
