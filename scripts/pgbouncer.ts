import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ensurePostgresUser } from '../db/embedded-root.js';
import { freePort } from './process-stats.js';

const PGBOUNCER = '/usr/sbin/pgbouncer';
/** The admin console's user (SHOW POOLS, SHOW STATS), with a password of each run. */
const ADMIN = 'pgbouncer_admin';

/** Debian's pgbouncer (1.18 on bookworm); CI installs it (.ci/run). */
export const hasPgBouncer = spawnSync(PGBOUNCER, ['--version']).status === 0;

export interface PgBouncer {
  /** `url` (a role's direct connection) rewritten to go through the pooler. */
  through(url: string): string;
  /** The PgBouncer process (its CPU time is part of what the pooler costs). */
  pid: number;
  /** Its log file, until `stop`. */
  logFile: string;
  /** The rows of an admin console command (`SHOW POOLS`, `SHOW STATS`). */
  admin(command: string): Promise<Array<Record<string, unknown>>>;
  /** Stops it and removes its directory. */
  stop(): Promise<void>;
}

/**
 * PgBouncer in transaction mode in front of the PostgreSQL the first of `users` points at, for
 * those roles (their direct URLs, whose passwords it presents to PostgreSQL); `poolSize` server
 * connections per database and role. Used by tests/db/pooler.test.ts, the bench and the cluster
 * test; its files live in a temporary directory.
 */
export async function startPgBouncer(users: string[], { poolSize = 2 } = {}): Promise<PgBouncer> {
  const target = new URL(users[0]!);
  const dir = await mkdtemp(path.join(tmpdir(), 'pgbouncer-'));
  const port = await freePort();
  const adminPassword = randomBytes(18).toString('hex');
  const userlist = users.map((u) => {
    const { username, password } = new URL(u);
    return `"${decodeURIComponent(username)}" "${decodeURIComponent(password)}"`;
  });
  userlist.push(`"${ADMIN}" "${adminPassword}"`);
  await writeFile(path.join(dir, 'users.txt'), `${userlist.join('\n')}\n`, { mode: 0o600 });
  await writeFile(
    path.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${target.hostname} port=${target.port}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      "unix_socket_dir = ''",
      'pool_mode = transaction',
      `default_pool_size = ${poolSize}`,
      'max_client_conn = 200',
      'auth_type = scram-sha-256',
      `auth_file = ${path.join(dir, 'users.txt')}`,
      `admin_users = ${ADMIN}`,
      `logfile = ${path.join(dir, 'pgbouncer.log')}`,
      '',
    ].join('\n'),
  );
  // PgBouncer refuses to run as root: it switches to the postgres system user, who must read its files.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { uid, gid } = await ensurePostgresUser();
    for (const file of ['', 'users.txt', 'pgbouncer.ini']) await chown(path.join(dir, file), uid, gid);
  }
  const child: ChildProcess = spawn(
    PGBOUNCER,
    [...(asRoot ? ['-u', 'postgres'] : []), path.join(dir, 'pgbouncer.ini')],
    {
      stdio: 'ignore',
    },
  );
  let exited: number | null | undefined;
  child.on('exit', (code) => {
    exited = code;
  });
  const through = (url: string) => {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(port);
    return u.toString();
  };
  await waitUntilServing(through(users[0]!), () => exited);
  const adminUrl = `postgres://${ADMIN}:${adminPassword}@127.0.0.1:${port}/pgbouncer`;
  return {
    through,
    pid: child.pid!,
    logFile: path.join(dir, 'pgbouncer.log'),
    async admin(command) {
      // The admin console speaks the simple query protocol only: a query without parameters.
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        return (await client.query(command)).rows;
      } finally {
        await client.end();
      }
    },
    async stop() {
      if (exited === undefined) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGINT');
        await gone;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitUntilServing(url: string, exited: () => number | null | undefined): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (exited() !== undefined) throw new Error(`pgbouncer exited with ${exited()}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch {
      await sleep(50);
    } finally {
      await client.end().catch(() => {});
    }
  }
  throw new Error('pgbouncer did not start serving');
}
