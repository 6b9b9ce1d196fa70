import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { statementName } from './statements.js';

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

/** Every text query with parameters becomes a named prepared statement (db/statements.ts). */
class PreparingClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: overrides all of pg.Client's query overloads at once; only `any` fits every return type
  override query(config: unknown, values?: unknown, callback?: unknown): any {
    if (typeof config === 'string' && Array.isArray(values)) {
      return super.query({ name: statementName(config), text: config, values }, callback as never);
    }
    return super.query(config as never, values as never, callback as never);
  }
}

export interface DatabaseHandle {
  db: Kysely<Database>;
  pool: pg.Pool;
}

/**
 * The application_name of the server's connections (pools, and the listener's): how the CLI tells
 * a running server from itself in pg_stat_activity (db/server-connections.ts).
 */
export const SERVER_APPLICATION_NAME = 'medreport-ptitspas';
export const LISTENER_APPLICATION_NAME = 'medreport-ptitspas-listener';

export interface ConnectOptions {
  max?: number;
  /** Shown in pg_stat_activity; the server's by default. */
  applicationName?: string;
  /** An idle client losing its connection (database restart) must be reported, not crash the process. */
  onIdleError?: (err: Error) => void;
  /**
   * false behind a transaction pooler (PgBouncer in transaction mode), which may run consecutive
   * transactions on different server connections: a named statement prepared on one would be
   * missing on the next (docs/scaling.md).
   */
  namedStatements?: boolean;
}

/** A pg pool whose connections prepare their statements (unless told not to) and read dates and counts as we want. */
export function createPool(
  url: string,
  {
    max = 10,
    onIdleError = () => {},
    namedStatements = true,
    applicationName = SERVER_APPLICATION_NAME,
  }: ConnectOptions = {},
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    types,
    application_name: applicationName,
    connectionTimeoutMillis: 5_000,
    Client: namedStatements ? PreparingClient : pg.Client,
  });
  pool.on('error', onIdleError);
  return pool;
}

export function connect(url: string, options: ConnectOptions = {}): DatabaseHandle {
  const pool = createPool(url, options);
  return { pool, db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }) };
}

/** Ends the pool even when its Kysely never ran a query (Kysely only ends a pool it has initialised). */
export async function disconnect({ db, pool }: DatabaseHandle): Promise<void> {
  await db.destroy();
  if (!pool.ended) await pool.end();
}
