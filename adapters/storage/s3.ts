import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
} from '@aws-sdk/client-s3';
import { type AbandonedReport, deadProcessDir, processDir } from './process-dirs.js';
import { checkKey, type StorageBackend } from './types.js';

export interface S3Settings {
  /** e.g. https://s3.eu-west-3.amazonaws.com or http://127.0.0.1:9000; absent: AWS's own for `region`. */
  endpoint?: string;
  bucket: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `http://host/bucket/key` instead of `http://bucket.host/key` (MinIO, s3rver, most self-hosted). */
  forcePathStyle: boolean;
  /** A local directory where a write is spooled before it is sent (S3 wants its length up front). */
  spoolDir: string;
}

// Spooled bodies are medical files too: readable by the server's own user only.
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const PUT_ATTEMPTS = 3;

/**
 * A bucket of an S3-compatible service (AWS, MinIO, Scaleway, s3rver…). A write is spooled to a
 * local file first, for PutObject needs the length up front; one PutObject is atomic, so readers
 * never see half an object and a failed write leaves nothing under its key.
 */
export async function s3Backend(settings: S3Settings, abandoned: AbandonedReport = () => {}): Promise<StorageBackend> {
  const { bucket: Bucket, accessKeyId, secretAccessKey } = settings;
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    // Otherwise a streamed PutObject goes out with aws-chunked framing (trailing CRC32), which
    // several S3-compatible services (s3rver, older MinIO) store as part of the object.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // A dead endpoint fails requests instead of holding them forever (the agent keeps its default
    // of 50 keep-alive sockets). Not requestTimeout: it would bound a long upload as a whole.
    requestHandler: { connectionTimeout: 5_000, socketTimeout: 60_000 },
  });
  try {
    // A wrong bucket, endpoint or key fails the start, not every request later (and a missing
    // bucket would otherwise read as missing objects: both answer 404).
    await client.send(new HeadBucketCommand({ Bucket }));
  } catch (err) {
    client.destroy();
    throw new Error(`S3 bucket ${Bucket} unreachable: ${(err as Error).name} ${(err as Error).message}`, {
      cause: err,
    });
  }
  // Not chmod: spoolDir may be a shared directory; this process's own one is created 0700.
  await mkdir(settings.spoolDir, { recursive: true, mode: DIR_MODE });
  const removed = await removeAbandonedSpools(settings.spoolDir);
  if (removed.length > 0) abandoned(removed);
  const spool = path.join(settings.spoolDir, processDir());

  const size = async (Key: string) => {
    try {
      return (await client.send(new HeadObjectCommand({ Bucket, Key }))).ContentLength ?? 0;
    } catch (err) {
      if (errorName(err) === 'NotFound' || errorName(err) === 'NoSuchKey') return undefined;
      throw err;
    }
  };
  const empty = async (Key: string) => {
    const whole = await size(Key);
    return whole === undefined ? undefined : { stream: Readable.from([]), size: whole };
  };

  return {
    kind: 's3',
    async check() {
      await client.send(new HeadBucketCommand({ Bucket }));
    },
    async write(key, body) {
      const Key = checkKey(key);
      await mkdir(spool, { recursive: true, mode: DIR_MODE });
      const file = path.join(spool, `${randomUUID()}.spool`);
      try {
        await pipeline(body, createWriteStream(file, { flags: 'wx', mode: FILE_MODE }));
        const ContentLength = (await stat(file)).size;
        // The SDK never retries a request whose body is a stream (it cannot rewind one); the
        // spool file can be read again, so a failure not of our making is retried here.
        for (let attempt = 1; ; attempt++) {
          const stream = createReadStream(file);
          try {
            await client.send(new PutObjectCommand({ Bucket, Key, Body: stream, ContentLength }));
            return;
          } catch (err) {
            if (attempt === PUT_ATTEMPTS || (err as { $fault?: string }).$fault === 'client') throw err;
          } finally {
            stream.destroy();
          }
          await sleep(100 * 2 ** attempt);
        }
      } finally {
        await rm(file, { force: true });
      }
    },
    async read(key, range) {
      const Key = checkKey(key);
      if (range && range.end < range.start) return empty(Key);
      try {
        const Range = range && `bytes=${range.start}-${range.end}`;
        const object = await client.send(new GetObjectCommand({ Bucket, Key, Range }));
        // Ranged: `bytes 10-19/12345`, the whole size after the slash.
        const whole = object.ContentRange ? Number(object.ContentRange.split('/')[1]) : object.ContentLength;
        return { stream: object.Body as Readable, size: whole ?? 0 };
      } catch (err) {
        if (errorName(err) === 'NoSuchKey') return undefined;
        // A range starting past the end (416): no bytes, as a local file gives.
        if (errorName(err) === 'InvalidRange') return empty(Key);
        throw err;
      }
    },
    async exists(key) {
      return (await size(checkKey(key))) !== undefined;
    },
    async remove(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: checkKey(key) }));
    },
    async *list(prefix = '') {
      for await (const page of paginateListObjectsV2({ client }, { Bucket, Prefix: prefix })) {
        for (const object of page.Contents ?? []) {
          yield { key: object.Key!, size: object.Size ?? 0, modified: object.LastModified ?? new Date(0) };
        }
      }
    },
    async close() {
      client.destroy();
      // After every request has drained: this process's spool directory is empty by then.
      await rm(spool, { recursive: true, force: true });
      await rmdir(settings.spoolDir).catch(() => {});
    },
  };
}

function errorName(err: unknown): string | undefined {
  return (err as Error | undefined)?.name;
}

/** Removes the spool directories of this host's processes that are gone (killed mid-write). */
async function removeAbandonedSpools(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of await readdir(dir)) {
    if (!deadProcessDir(entry)) continue;
    await rm(path.join(dir, entry), { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
}
