import { type Kysely, sql } from 'kysely';
import type { Database } from '../../../db/schema.js';

/**
 * Drops every organization's changes made before `before` (their horizons move past them);
 * returns how many went. Runs on the unscoped handle: it is every organization's housekeeping.
 */
export async function pruneChanges(db: Kysely<Database>, before: Date): Promise<number> {
  const { rows } = await sql<{ n: number }>`select medreport.prune_sync_changes(${before}) as n`.execute(db);
  return rows[0]!.n;
}
