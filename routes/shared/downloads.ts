import { Type } from '@sinclair/typebox';
import type { ByteRange } from '../../adapters/storage/index.js';
import { HttpError } from '../../plugins/errors.js';

/** A response whose body is a file of one of `types` (a range such as image/* or any type), for the OpenAPI document. */
export const fileResponse = (description: string, types: readonly string[]) => ({
  description,
  content: Object.fromEntries(types.map((type) => [type, { schema: Type.String({ format: 'binary' }) }])),
});

/** `Content-Disposition: attachment` with the original name (RFC 6266: `filename*` in UTF-8, an ASCII fallback). */
export function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/**
 * Whether an `If-None-Match` header names `etag` (or `*`). The comparison is the weak one, as RFC
 * 9110 §13.1.2 requires for If-None-Match: `W/"x"` matches `"x"` (a proxy that compresses turns
 * strong tags weak, and its clients revalidate with those).
 */
export function etagMatches(header: string | undefined, etag: string): boolean {
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return (
    !!header && header.split(',').some((candidate) => candidate.trim() === '*' || opaque(candidate) === opaque(etag))
  );
}

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/;

/**
 * The byte range a `Range` header asks of an object of `size` bytes (RFC 9110 §14): undefined for
 * the whole object (no header, a unit other than bytes, several ranges: answered 200 in full, as
 * the RFC allows); 416 with `Content-Range: bytes *\/size` when it lies past the end.
 */
export function requestedRange(header: string | undefined, size: number): ByteRange | undefined {
  const match = header ? SINGLE_RANGE.exec(header.trim()) : null;
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [first, last] = [match[1]!, match[2]!];
  let range: ByteRange;
  if (first === '') range = { start: Math.max(0, size - Number(last)), end: size - 1 };
  else range = { start: Number(first), end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
  if (range.start > range.end || range.start >= size) {
    throw new HttpError(416, 'Plage demandée non satisfaisable', { headers: { 'content-range': `bytes */${size}` } });
  }
  return range;
}
