import { type QueryExecutorProvider, sql } from 'kysely';
import { LISTENER_APPLICATION_NAME, SERVER_APPLICATION_NAME } from './connection.js';

/** Connections of running servers to one database, by where they come from. */
interface ServerConnections {
  /** The client's address, `local socket`, or `address hidden` (pg_stat_activity shows it only to members of its role). */
  from: string;
  application: string;
  count: number;
}

/**
 * The connections a running server holds on this database, recognised by their application_name
 * (db/connection.ts); the caller's own connection is left out. Behind PgBouncer they show with
 * the pooler's address (it passes application_name on).
 */
async function serverConnections(db: QueryExecutorProvider): Promise<ServerConnections[]> {
  const { rows } = await sql<ServerConnections>`
    select case when client_port = -1 then 'local socket'
                when client_addr is null then 'address hidden'
                else host(client_addr) end as "from",
           application_name as application, count(*)::int as count
      from pg_stat_activity
     where datname = current_database() and pid <> pg_backend_pid()
       and application_name in (${SERVER_APPLICATION_NAME}, ${LISTENER_APPLICATION_NAME})
     group by 1, 2
     order by 1, 2`.execute(db);
  return rows;
}

/**
 * Throws, in one line, when a server is connected: `what` (a reset, a revert) would change the
 * schema under its feet and its prepared statements.
 */
export async function refuseWhileServerConnected(db: QueryExecutorProvider, what: string): Promise<void> {
  const connections = await serverConnections(db);
  if (connections.length === 0) return;
  const total = connections.reduce((n, c) => n + c.count, 0);
  const where = connections.map((c) => `${c.count} from ${c.from} as ${c.application}`).join(', ');
  throw new Error(
    `${what} refused: a server is connected to this database (${total} connection${total === 1 ? '' : 's'}: ${where}); stop it first. Nothing was changed.`,
  );
}
