import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

const DATE_OID = 1082;
const INT8_OID = 20;

// `date` stays the 'YYYY-MM-DD' string the APIs speak (pg would make a local-midnight Date);
// bigint counts become numbers (ours stay far below 2^53).
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === DATE_OID) return (value: string) => value;
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

export interface DatabaseHandle {
  db: Kysely<Database>;
  pool: pg.Pool;
}

export interface ConnectOptions {
  max?: number;
  /** An idle client losing its connection (database restart) must be reported, not crash the process. */
  onIdleError?: (err: Error) => void;
}

export function connect(url: string, { max = 10, onIdleError = () => {} }: ConnectOptions = {}): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    types,
    application_name: 'medreport-ptitspas',
    connectionTimeoutMillis: 5_000,
  });
  pool.on('error', onIdleError);
  return { pool, db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }) };
}
