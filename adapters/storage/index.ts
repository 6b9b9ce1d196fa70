import { createHash } from 'node:crypto';
import { pipeline, Readable, Transform } from 'node:stream';
import { localBackend } from './local.js';
import type { AbandonedReport } from './process-dirs.js';
import type { S3Settings } from './s3.js';
import type { ByteRange, ListedObject, StorageBackend, StoredBytes } from './types.js';

export type { ByteRange, ListedObject, StoredBytes } from './types.js';
export { TEMP_PREFIX } from './types.js';

/** What `put` learnt from the bytes on their way in. */
export interface PutResult {
  size: number;
  /** SHA-256, hex. */
  sha256: string;
  /** The first bytes (up to `headBytes`), for sniffing the type from the content. */
  head: Buffer;
}

export interface PutOptions {
  /** More bytes than this fails the write with ObjectTooLarge and stores nothing. */
  maxBytes: number;
  /** How many leading bytes to keep for the caller (default 4100, what file-type needs). */
  headBytes?: number;
}

/** The body went past `PutOptions.maxBytes`: nothing was stored. */
export class ObjectTooLarge extends Error {
  override name = 'ObjectTooLarge';
  constructor(readonly maxBytes: number) {
    super(`object larger than ${maxBytes} bytes`);
  }
}

export type StorageSettings = { backend: 'local'; root: string } | ({ backend: 's3' } & S3Settings);

/**
 * The one storage both APIs use. Which backend runs is chosen here, from configuration; nothing
 * else in the code knows. Every write is measured on its way in: size bounded, SHA-256 computed,
 * first bytes kept for sniffing.
 */
export class Storage {
  constructor(private readonly backend: StorageBackend) {}

  get kind() {
    return this.backend.kind;
  }

  async put(key: string, body: Readable | Buffer, { maxBytes, headBytes = 4100 }: PutOptions): Promise<PutResult> {
    const hash = createHash('sha256');
    const head: Buffer[] = [];
    let kept = 0;
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > maxBytes) return done(new ObjectTooLarge(maxBytes));
        if (kept < headBytes) {
          head.push(chunk.subarray(0, headBytes - kept));
          kept += Math.min(chunk.length, headBytes - kept);
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
    // pipeline, not pipe: a body cut short (a client hanging up) must fail the write too.
    await this.backend.write(
      key,
      pipeline(source, meter, () => {}),
    );
    return { size, sha256: hash.digest('hex'), head: Buffer.concat(head) };
  }

  get(key: string, range?: ByteRange): Promise<StoredBytes | undefined> {
    return this.backend.read(key, range);
  }

  exists(key: string): Promise<boolean> {
    return this.backend.exists(key);
  }

  /** Throws when the backend cannot be reached or written (readiness). */
  check(): Promise<void> {
    return this.backend.check();
  }

  remove(key: string): Promise<void> {
    return this.backend.remove(key);
  }

  list(prefix?: string): AsyncIterable<ListedObject> {
    return this.backend.list(prefix);
  }

  close(): Promise<void> {
    return this.backend.close();
  }
}

/**
 * The storage `settings` name. Opening it removes what writes killed processes left half-done
 * (`abandoned` is told their directories).
 */
export async function createStorage(
  settings: StorageSettings,
  abandoned: AbandonedReport = () => {},
): Promise<Storage> {
  // The S3 SDK is loaded only for an S3 backend: its modules hold ~10 MB that a local one never uses.
  const backend =
    settings.backend === 's3'
      ? await (await import('./s3.js')).s3Backend(settings, abandoned)
      : await localBackend(settings.root, abandoned);
  return new Storage(backend);
}
