import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { APP_ROLE } from '../../db/app-role.js';
import { ensurePostgresUser } from '../../db/embedded-root.js';
import type { ClusterDatabase } from './database.js';
import { type Child, type Cleanup, freePort, log, startChild, stopChild, subDir, waitUntil } from './processes.js';

const CANDIDATES = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer'];
const ADMIN = 'cluster_admin';
/** Server connections per (database, user): fewer than the instances' client connections, so pooling really happens. */
export const POOL_SIZE = 10;

export interface PgBouncer {
  port: number;
  logFile: string;
  /** Rows of an admin console command (`SHOW STATS`, `SHOW POOLS`). */
  admin(command: string): Promise<Array<Record<string, unknown>>>;
  child: Child;
}

function binary(): string {
  const found = CANDIDATES.find((file) => existsSync(file));
  if (!found) throw new Error('PgBouncer is not installed: run `apt-get install -y pgbouncer` (Debian/Ubuntu)');
  return found;
}

const quoted = (value: string) => `"${value.replaceAll('"', '""')}"`;

/**
 * PgBouncer in transaction mode in front of `database`, on a free port, SCRAM for the app role
 * (its password in the auth file) and for an admin console user. PgBouncer refuses to run as
 * root: it then switches to the postgres user (`-u`), which owns its directory and files.
 */
export async function startPgBouncer(workDir: string, database: ClusterDatabase, cleanup: Cleanup): Promise<PgBouncer> {
  const executable = binary();
  const dir = await subDir(workDir, 'pgbouncer');
  const port = await freePort();
  const adminPassword = randomBytes(18).toString('hex');
  const file = (name: string) => path.join(dir, name);
  await writeFile(
    file('userlist.txt'),
    `${quoted(APP_ROLE)} ${quoted(database.appPassword)}\n${quoted(ADMIN)} ${quoted(adminPassword)}\n`,
    { mode: 0o600 },
  );
  await writeFile(file('pgbouncer.ini'), config(port, database.port, file));
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const postgres = await ensurePostgresUser();
    for (const owned of [dir, file('userlist.txt'), file('pgbouncer.ini')]) {
      await chown(owned, postgres.uid, postgres.gid);
    }
  }
  const child = startChild('pgbouncer', executable, [...(asRoot ? ['-u', 'postgres'] : []), file('pgbouncer.ini')], {
    env: { PATH: process.env.PATH },
    logFile: file('stderr.log'),
  });
  cleanup.defer('stop PgBouncer', async () => void (await stopChild(child, 5_000)));
  const adminUrl = `postgres://${ADMIN}:${adminPassword}@127.0.0.1:${port}/pgbouncer`;
  const admin = async (command: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      return (await client.query(command)).rows as Array<Record<string, unknown>>;
    } finally {
      await client.end();
    }
  };
  await waitUntil(
    'PgBouncer accepting connections',
    async () => (await admin('SHOW VERSION')).length > 0,
    child,
    10_000,
  );
  log(`PgBouncer on port ${port}, transaction pooling, ${POOL_SIZE} server connections per pool`);
  return { port, logFile: file('pgbouncer.log'), admin, child };
}

function config(port: number, postgresPort: number, file: (name: string) => string): string {
  return `[databases]
app = host=127.0.0.1 port=${postgresPort} dbname=app

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = ${file('userlist.txt')}
admin_users = ${ADMIN}
pool_mode = transaction
default_pool_size = ${POOL_SIZE}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 500
logfile = ${file('pgbouncer.log')}
pidfile = ${file('pgbouncer.pid')}
log_connections = 0
log_disconnections = 0
log_pooler_errors = 1
stats_period = 10
`;
}

/** PgBouncer's log file (it also prints each line on stderr: that copy only serves when the file never opened). */
export async function pgbouncerLog(bouncer: PgBouncer): Promise<string> {
  const file = await readFile(bouncer.logFile, 'utf8').catch(() => '');
  return file || readFile(bouncer.child.logFile, 'utf8').catch(() => '');
}
