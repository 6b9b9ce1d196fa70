import type { Readable } from 'node:stream';
import { fileTypeFromBuffer } from 'file-type';
import type { Storage } from '../../adapters/storage/index.js';

/** Bytes now in storage under `key`, not yet recorded anywhere. */
export interface StoredFile {
  key: string;
  size: number;
  /** SHA-256, hex. */
  sha256: string;
  /** The type read from the content (file-type); undefined when it has no known signature. */
  detected?: { mime: string; ext: string };
}

/**
 * Streams `body` into storage under `key` (bounded to `maxBytes`, hashed on the way) and reads
 * its type from its first bytes, never from what the client said. Whoever stores a file records
 * it or removes it: `recordOrRemove` below.
 */
export async function storeFile(storage: Storage, key: string, body: Readable, maxBytes: number): Promise<StoredFile> {
  const { size, sha256, head } = await storage.put(key, body, { maxBytes });
  const type = await fileTypeFromBuffer(head);
  return { key, size, sha256, detected: type && { mime: type.mime, ext: type.ext } };
}

/**
 * Runs `record` (the checks and the transaction that make a row point at `file`); if it throws,
 * the object is removed. The object exists before its row commits, so a row never points at a
 * missing object; a crash in between leaves an object without a row, which `storage:check --fix`
 * removes.
 */
export async function recordOrRemove<T>(storage: Storage, file: StoredFile | undefined, record: () => Promise<T>) {
  try {
    return await record();
  } catch (err) {
    if (file) await storage.remove(file.key);
    throw err;
  }
}
