import {
  Kysely,
  type KyselyPlugin,
  type PostgresCursor,
  type PostgresCursorConstructor,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
} from 'kysely';
import type pg from 'pg';
import { ContextCursor, ContextQuery, type StatementContext } from './context-query.js';
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
  const facade: PostgresPool = {
    async connect() {
      return contextClient(await pool.connect(), context);
    },
    // The pool is the application's: handles never end it.
    end: async () => {},
  };
  class HandleCursor extends ContextCursor {
    constructor(text: string, values: unknown[]) {
      super(context, text, values);
    }
  }
  return new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: facade,
      // Kysely's cursor constructor type takes pg-cursor's signature; ours fixes the context first.
      cursor: HandleCursor as unknown as PostgresCursorConstructor,
    }),
    plugins,
  });
}

/** A pooled connection whose text queries run as ContextQuery. */
function contextClient(client: pg.PoolClient, context: StatementContext): PostgresPoolClient {
  function query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  function query(textOrCursor: unknown, values?: readonly unknown[]): unknown {
    // A cursor goes to pg as is: pg's overloads cannot be named from here.
    if (typeof textOrCursor !== 'string') return client.query(textOrCursor as never);
    if (TRANSACTION_CONTROL.test(textOrCursor)) return client.query(textOrCursor);
    return new Promise<pg.QueryResult>((resolve, reject) => {
      client.query(
        new ContextQuery(context, {
          name: context.named ? statementName(textOrCursor) : undefined,
          text: textOrCursor,
          values: [...(values ?? [])],
          callback: (err, result) => (err ? reject(err) : resolve(result)),
        }) as never,
      );
    });
  }
  return { query, release: () => client.release() };
}
