import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import type { AuthUser } from '../../../plugins/auth.js';

export interface Activity {
  /** `patient.created`, `invoice.deleted`, ... */
  action: string;
  entity_type: string;
  entity_uuid: string;
  entity_name: string | null;
}

/**
 * Writes one activity-log row. Call it with the mutation's own transaction (a tenant handle), so
 * the change and its trace commit or roll back together.
 */
export async function recordActivity(db: Kysely<Database>, actor: AuthUser, activity: Activity): Promise<void> {
  await db
    .insertInto('medreport.activity_log')
    .values({ ...activity, user_id: actor.id, user_name: actor.name })
    .execute();
}
