import { randomUUID } from 'node:crypto';
import { constants, createReadStream, createWriteStream, type Dirent } from 'node:fs';
import { access, chmod, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type AbandonedReport, deadProcessDir, processDir } from './process-dirs.js';
import { type ByteRange, checkKey, type ListedObject, type StorageBackend, TEMP_PREFIX } from './types.js';

// Medical files, children's records and avatars: readable by the server's own user only.
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
/** Another host's temporary files (a shared volume) are only removed once clearly abandoned. */
const FOREIGN_TEMP_MAX_AGE_MS = 24 * 3600 * 1000;

/** This process's own temporary directory: `tmp/<host>-<pid>`. */
const instanceTemp = () => `${TEMP_PREFIX}${processDir()}`;

/**
 * A directory on the server's disk (the default: nothing to set up). A write goes to this
 * process's temporary directory, then is renamed into place: readers never see half a file, and
 * what a killed process left half-written is removed at the next start.
 */
export async function localBackend(root: string, abandoned: AbandonedReport): Promise<StorageBackend> {
  await mkdir(root, { recursive: true, mode: DIR_MODE });
  await chmod(root, DIR_MODE);
  const removed = await removeAbandonedWrites(root);
  if (removed.length > 0) abandoned(removed);
  const temp = path.join(root, instanceTemp());
  const resolve = (key: string) => path.join(root, checkKey(key));

  return {
    kind: 'local',
    async check() {
      await access(root, constants.W_OK);
    },
    async write(key, body) {
      const target = resolve(key);
      await mkdir(path.dirname(target), { recursive: true, mode: DIR_MODE });
      await mkdir(temp, { recursive: true, mode: DIR_MODE });
      const partial = path.join(temp, `${randomUUID()}.partial`);
      try {
        await pipeline(body, createWriteStream(partial, { flags: 'wx', mode: FILE_MODE }));
        await rename(partial, target);
      } catch (err) {
        await rm(partial, { force: true });
        throw err;
      }
    },
    async read(key, range?: ByteRange) {
      const file = resolve(key);
      let size: number;
      try {
        size = (await stat(file)).size;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      const start = range?.start ?? 0;
      const end = range?.end ?? size - 1;
      // Bounded to known positions, the stream ends with its last bytes instead of after one more
      // read finds EOF: a client that has all `content-length` bytes and hangs up at once no
      // longer races that read (Fastify logged it as "stream closed prematurely").
      return { stream: end < start ? Readable.from([]) : createReadStream(file, { start, end }), size };
    },
    async exists(key) {
      return stat(resolve(key)).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return false;
          throw err;
        },
      );
    },
    async remove(key) {
      await rm(resolve(key), { force: true });
    },
    list: (prefix = '') => walk(root, '', prefix),
    async close() {
      // After every request has drained: this process's temporary directory is empty by then.
      await rm(temp, { recursive: true, force: true });
    },
  };
}

/** Every file under `root/dir` whose key starts with `prefix`, depth first. */
async function* walk(root: string, dir: string, prefix: string): AsyncGenerator<ListedObject> {
  let entries: Dirent[];
  try {
    entries = await readdir(path.join(root, dir), { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const key = dir ? `${dir}/${entry.name}` : entry.name;
    // Only descend where the prefix may still match.
    if (!(key.startsWith(prefix) || prefix.startsWith(`${key}/`))) continue;
    if (entry.isDirectory()) yield* walk(root, key, prefix);
    else if (entry.isFile()) {
      const info = await stat(path.join(root, key)).catch(() => undefined);
      if (info) yield { key, size: info.size, modified: info.mtime };
    }
  }
}

/**
 * Removes writes left half-done by processes that are gone: this host's temporary directories
 * whose process is dead, and anything else under `tmp/` a day old.
 */
async function removeAbandonedWrites(root: string): Promise<string[]> {
  const removed: string[] = [];
  let entries: Dirent[];
  try {
    entries = await readdir(path.join(root, TEMP_PREFIX), { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return removed;
    throw err;
  }
  for (const entry of entries) {
    const full = path.join(root, TEMP_PREFIX, entry.name);
    const abandoned = deadProcessDir(entry.name) ?? Date.now() - (await stat(full)).mtimeMs > FOREIGN_TEMP_MAX_AGE_MS;
    if (abandoned) {
      await rm(full, { recursive: true, force: true });
      removed.push(entry.name);
    }
  }
  return removed;
}
