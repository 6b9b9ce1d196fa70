import {
  type Compilable,
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
} from 'kysely';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { StatementContext } from './context-query.js';
import type { Database } from './schema.js';

/**
 * Builds (never runs) the queries a COPY wraps. COPY takes no parameters, so these queries hold
 * none: what varies is inlined as a literal (`sql.lit`) or read from the transaction's context.
 */
export const copyQueries = new Kysely<Database>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

/** `copy (query) to stdout`, in PostgreSQL's text format; refuses a query with parameters. */
export function copyToStdout(query: Compilable): string {
  const { sql, parameters } = query.compile();
  if (parameters.length > 0) throw new Error('COPY takes no parameters: read values from the context instead');
  return `copy (${sql}) to stdout`;
}

/**
 * The output of `statement` (a COPY ... TO STDOUT) as PostgreSQL sends it, in one transaction
 * whose context (e.g. the organization row-level security reads) is set first. The socket is read
 * only as fast as the chunks are taken, so a slow consumer slows PostgreSQL down rather than
 * filling memory. A COPY left half-read (the consumer stopped, or failed) leaves its connection
 * mid-stream: that connection is closed, never handed to anyone else.
 */
export async function* copyOut(
  pool: pg.Pool,
  { setting, value }: Pick<StatementContext, 'setting' | 'value'>,
  statement: string,
): AsyncGenerator<Buffer> {
  const client = await pool.connect();
  let copy: ReturnType<typeof copyTo> | undefined;
  let finished = false;
  try {
    await client.query('begin');
    // Unnamed: behind a transaction pooler no named statement may be assumed prepared. Dates in
    // ISO whatever the server's default: COPY's text is read by code.
    await client.query({
      text: `select set_config($1, $2, true), set_config('datestyle', 'ISO', true)`,
      values: [setting, value],
    });
    copy = client.query(copyTo(statement));
    for await (const chunk of copy) yield chunk as Buffer;
    await client.query('commit');
    finished = true;
  } finally {
    // Closing the connection fails the abandoned COPY once more: nobody listens any longer.
    if (!finished) copy?.on('error', () => {});
    client.release(!finished);
  }
}
