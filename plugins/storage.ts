import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type Dirent } from 'node:fs';
import { chmod, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fp from 'fastify-plugin';

/**
 * Where uploaded bytes live. Keys are relative paths such as `avatars/<random>.jpg`.
 * Local disk by default; an S3-compatible backend implements the same methods.
 */
interface Storage {
  /** Writes all of `data` under `key`; a failed write leaves nothing behind. */
  put(key: string, data: Buffer | Readable): Promise<{ size: number }>;
  /** A stream of the stored bytes, or undefined when there is no such key. */
  get(key: string): Promise<{ stream: Readable; size: number } | undefined>;
  /** Renames within the store (an upload lands under a temporary key, then takes its final one). */
  move(from: string, to: string): Promise<void>;
  remove(key: string): Promise<void>;
  /** A fresh key for an upload in progress; whatever a dead process left under such keys is removed at start. */
  tempKey(): string;
}

declare module 'fastify' {
  interface FastifyInstance {
    storage: Storage;
  }
}

// Medical files and avatars: readable by the server's own user only.
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const TEMP = 'tmp';
/** Another host's temporary files (a shared volume) are only removed once clearly abandoned. */
const FOREIGN_TEMP_MAX_AGE_MS = 24 * 3600 * 1000;

const SAFE_KEY = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** This process's own temporary directory: `tmp/<host>-<pid>`. */
const instanceTemp = () => `${TEMP}/${hostname().replace(/[^A-Za-z0-9_-]/g, '_')}-${process.pid}`;

function localStorage(root: string): Storage {
  const resolve = (key: string) => {
    if (!SAFE_KEY.test(key) || key.includes('..')) throw new Error(`invalid storage key: ${key}`);
    return path.join(root, key);
  };
  const temp = instanceTemp();
  return {
    async put(key, data) {
      const target = resolve(key);
      await mkdir(path.dirname(target), { recursive: true, mode: DIR_MODE });
      await mkdir(path.join(root, temp), { recursive: true, mode: DIR_MODE });
      // Written in the process's temporary directory, then renamed: readers never see half a
      // file, and a crash leaves the half where the next start cleans up.
      const partial = path.join(root, temp, `${randomUUID()}.partial`);
      try {
        await pipeline(
          Buffer.isBuffer(data) ? Readable.from([data]) : data,
          createWriteStream(partial, { flags: 'wx', mode: FILE_MODE }),
        );
        await rename(partial, target);
      } catch (err) {
        await rm(partial, { force: true });
        throw err;
      }
      return { size: (await stat(target)).size };
    },
    async get(key) {
      const file = resolve(key);
      try {
        const { size } = await stat(file);
        // Bounded to the known size, the stream ends with its last bytes instead of after one
        // more read finds EOF: a client that has all `content-length` bytes and hangs up at
        // once no longer races that read (Fastify logged it as "stream closed prematurely").
        return { stream: size === 0 ? Readable.from([]) : createReadStream(file, { start: 0, end: size - 1 }), size };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async move(from, to) {
      const target = resolve(to);
      await mkdir(path.dirname(target), { recursive: true, mode: DIR_MODE });
      await rename(resolve(from), target);
    },
    async remove(key) {
      await rm(resolve(key), { force: true });
    },
    tempKey: () => `${temp}/${randomUUID()}`,
  };
}

/**
 * Removes uploads left half-written by processes that are gone: this host's temporary
 * directories whose process is dead, and anything else in `tmp/` a day old.
 */
async function removeAbandonedUploads(root: string): Promise<string[]> {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '_');
  const removed: string[] = [];
  let entries: Dirent[];
  try {
    entries = await readdir(path.join(root, TEMP), { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return removed;
    throw err;
  }
  for (const entry of entries) {
    const full = path.join(root, TEMP, entry.name);
    const pid = entry.name.startsWith(`${host}-`) ? Number(entry.name.slice(host.length + 1)) : NaN;
    const abandoned = Number.isInteger(pid)
      ? pid !== process.pid && !alive(pid)
      : Date.now() - (await stat(full)).mtimeMs > FOREIGN_TEMP_MAX_AGE_MS;
    if (abandoned) {
      await rm(full, { recursive: true, force: true });
      removed.push(entry.name);
    }
  }
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export default fp<{ root: string }>(
  async (app, { root }) => {
    await mkdir(root, { recursive: true, mode: DIR_MODE });
    await chmod(root, DIR_MODE);
    const removed = await removeAbandonedUploads(root);
    if (removed.length) app.log.info({ removed }, 'removed uploads left unfinished by a stopped process');
    app.decorate('storage', localStorage(root));
    // After every request has drained: this process's temporary directory is empty by then.
    app.addHook('onClose', async () => {
      await rm(path.join(root, instanceTemp()), { recursive: true, force: true });
    });
  },
  { name: 'storage' },
);
