import {
  Kysely,
  type KyselyPlugin,
  type PostgresCursor,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
} from 'kysely';
import type pg from 'pg';
import { ContextQuery, type StatementContext } from './context-query.js';
import type { Database } from './schema.js';
import { statementName } from './statements.js';

// Transaction control carries no context: it would be lost at BEGIN, and would fail (and skip
// the ROLLBACK) in an aborted transaction. The statements inside a transaction carry it.
const TRANSACTION_CONTROL = /^\s*(?:begin|start\s+transaction|commit|end|rollback|abort|savepoint|release)\b/i;

/**
 * A query builder over `pool` whose every statement carries `context` in its own round trip
 * (db/context-query.ts): the tenant handles (db/tenant-pool.ts) and the cross-organization one.
 */
export function contextHandle(
  pool: pg.Pool,
  context: StatementContext,
  plugins: KyselyPlugin[] = [],
): Kysely<Database> {
  // One wrapper per pooled connection, kept: Kysely remembers its connections by the object the
  // pool hands it, and a new wrapper each time made it set each one up again on every query.
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const facade: PostgresPool = {
    async connect() {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (!wrapper) {
        wrapper = contextClient(client, context);
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    // The pool is the application's: handles never end it.
    end: async () => {},
  };
  const handle = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: facade }),
    plugins,
  });
  direct.set(handle, async (text, values) => {
    const client = await pool.connect();
    try {
      return (await contextQuery(client, context, text, values)).rows;
    } finally {
      client.release();
    }
  });
  return handle;
}

/** Runs a compiled statement on a handle's pool, under the handle's context: one connection, one round trip. */
export type DirectRun = (sql: string, values: readonly unknown[]) => Promise<unknown[]>;
const direct = new WeakMap<object, DirectRun>();

/**
 * How to run a statement `db` compiled without Kysely's executor (connection provider, plugins'
 * result hooks, frozen results: ~20 µs of CPU a tenant read, docs/benchmarks.md): a context handle's own runner; none for a
 * transaction or any other builder, whose statements must take Kysely's path.
 */
export const directRunOf = (db: object): DirectRun | undefined => direct.get(db);

function contextQuery(
  client: pg.PoolClient,
  context: StatementContext,
  text: string,
  values: readonly unknown[],
): Promise<pg.QueryResult> {
  return new Promise<pg.QueryResult>((resolve, reject) => {
    client.query(
      new ContextQuery(context, {
        name: context.named ? statementName(text) : undefined,
        text,
        values: [...values],
        callback: (err, result) => (err ? reject(err) : resolve(result)),
      }) as never,
    );
  });
}

/** A pooled connection whose text queries run as ContextQuery. */
function contextClient(client: pg.PoolClient, context: StatementContext): PostgresPoolClient {
  function query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  function query(textOrCursor: unknown, values?: readonly unknown[]): unknown {
    // Kysely's type asks for the cursor overload; the dialect has no cursor, so none comes (exports use COPY).
    if (typeof textOrCursor !== 'string') throw new Error('tenant handles do not stream rows');
    if (TRANSACTION_CONTROL.test(textOrCursor)) return client.query(textOrCursor);
    return contextQuery(client, context, textOrCursor, values ?? []);
  }
  return { query, release: () => client.release() };
}
