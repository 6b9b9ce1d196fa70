import type { Readable } from 'node:stream';

/** Inclusive byte positions, as HTTP `Range: bytes=start-end` names them. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface StoredBytes {
  stream: Readable;
  /** The whole object's size, whatever range is read. */
  size: number;
}

export interface ListedObject {
  key: string;
  size: number;
  modified: Date;
}

/**
 * What a place that keeps bytes must do (a local directory, an S3-compatible bucket). Keys are
 * relative paths such as `avatars/<random>.jpg`; the backend may keep unfinished writes under
 * keys of its own (`tmp/…`), which `list` shows and the orphan check removes once abandoned.
 */
export interface StorageBackend {
  readonly kind: 'local' | 's3';
  /** Writes all of `body` under `key`; on any error nothing is left under `key`. */
  write(key: string, body: Readable): Promise<void>;
  /** The object's bytes (those of `range` when given), or undefined when there is no such key. */
  read(key: string, range?: ByteRange): Promise<StoredBytes | undefined>;
  exists(key: string): Promise<boolean>;
  /** Removes `key`; a key that is not there is not an error. */
  remove(key: string): Promise<void>;
  /** Every object whose key starts with `prefix`, unfinished writes included. */
  list(prefix?: string): AsyncIterable<ListedObject>;
  /** Throws when the backend cannot be reached or written (readiness: GET /ready). */
  check(): Promise<void>;
  /** Gives back connections and temporary files; called once when the server stops. */
  close(): Promise<void>;
}

/** Keys are relative, made of safe segments: no `..`, no leading slash, no control characters. */
const SAFE_KEY = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

export function checkKey(key: string): string {
  if (!SAFE_KEY.test(key) || key.includes('..')) throw new Error(`invalid storage key: ${key}`);
  return key;
}

/** Where each backend keeps writes in progress; the orphan check treats old ones as abandoned. */
export const TEMP_PREFIX = 'tmp/';
