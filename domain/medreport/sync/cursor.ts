import { Invalid } from '../../errors.js';

/**
 * Where a client is in its organization's history (docs/sync.md). Opaque to clients: base64url
 * of a small JSON, versioned.
 *
 * - `snapshot`: a first sync reading the live rows, entity by entity (`entity` indexes
 *   SYNC_ENTITIES) in uuid order after `after`; the feed takes over from `watermark`, the last
 *   `seq` committed when the snapshot began.
 * - `changes`: every feed entry up to `seq` was delivered, and those of `skip` (the client's own
 *   last push, first..last) need not be.
 */
export type Cursor =
  | { kind: 'snapshot'; watermark: number; entity: number; after: string | null }
  | { kind: 'changes'; seq: number; skip?: [number, number] };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const isSeq = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

export function encodeCursor(cursor: Cursor): string {
  const body =
    cursor.kind === 'snapshot'
      ? { v: 1, w: cursor.watermark, e: cursor.entity, a: cursor.after }
      : { v: 1, c: cursor.seq, ...(cursor.skip ? { s: cursor.skip } : {}) };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

const invalidCursor = () => new Invalid('Curseur de synchronisation invalide.', { since: ['Curseur invalide.'] });

/** Reads a cursor a client sent back; anything else is a 422 on `since`. */
export function decodeCursor(text: string): Cursor {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw invalidCursor();
  }
  if (!body || typeof body !== 'object' || body.v !== 1) throw invalidCursor();
  if (Object.hasOwn(body, 'w')) {
    const { w, e, a } = body;
    if (isSeq(w) && isSeq(e) && e < 4 && (a === null || (typeof a === 'string' && UUID.test(a)))) {
      return { kind: 'snapshot', watermark: w, entity: e, after: a };
    }
  } else if (isSeq(body.c)) {
    const s = body.s;
    if (s === undefined) return { kind: 'changes', seq: body.c };
    if (Array.isArray(s) && s.length === 2 && isSeq(s[0]) && isSeq(s[1]) && s[0] <= s[1]) {
      return { kind: 'changes', seq: body.c, skip: [s[0], s[1]] };
    }
  }
  throw invalidCursor();
}

/** The feed position a cursor stands for: what the device has, as far as the feed goes. */
export function positionOf(cursor: Cursor): number {
  return cursor.kind === 'snapshot' ? cursor.watermark : cursor.seq;
}
