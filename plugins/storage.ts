import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { chmod, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fp from 'fastify-plugin';

/**
 * Where uploaded bytes live. Keys are relative paths such as `avatars/12_1743615420.jpg`.
 * Local disk by default; an S3-compatible backend implements the same four methods.
 */
export interface Storage {
  /** Writes all of `data` under `key`; a failed write leaves nothing behind. */
  put(key: string, data: Buffer | Readable): Promise<{ size: number }>;
  /** A stream of the stored bytes, or undefined when there is no such key. */
  get(key: string): Promise<{ stream: ReadStream; size: number } | undefined>;
  /** Renames within the store (an upload lands under a temporary key, then takes its final one). */
  move(from: string, to: string): Promise<void>;
  remove(key: string): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    storage: Storage;
  }
}

// Medical files and avatars: readable by the server's own user only.
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

const SAFE_KEY = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

export function localStorage(root: string): Storage {
  const resolve = (key: string) => {
    if (!SAFE_KEY.test(key) || key.includes('..')) throw new Error(`invalid storage key: ${key}`);
    return path.join(root, key);
  };
  return {
    async put(key, data) {
      const target = resolve(key);
      await mkdir(path.dirname(target), { recursive: true, mode: DIR_MODE });
      // Written beside the target then renamed: readers never see half a file.
      const partial = `${target}.${randomUUID()}.partial`;
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
        return { stream: createReadStream(file), size };
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
  };
}

export default fp<{ root: string }>(
  async (app, { root }) => {
    await mkdir(root, { recursive: true, mode: DIR_MODE });
    await chmod(root, DIR_MODE);
    app.decorate('storage', localStorage(root));
  },
  { name: 'storage' },
);
