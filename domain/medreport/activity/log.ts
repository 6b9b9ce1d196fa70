import { type Kysely, type Selectable, sql } from 'kysely';
import { containing, likeLiteral } from '../../../db/like.js';
import type { ActivityLogTable, Database } from '../../../db/schema.js';
import { paginate } from '../../shared/pagination.js';

export type ActivityLogRow = Selectable<ActivityLogTable>;

export interface ActivityFilter {
  /** ISO 8601 date-time, or a date: from its first instant. */
  from?: string;
  /** ISO 8601 date-time (included), or a date: the whole day included. */
  to?: string;
  userId?: number;
  /** `created`, `updated`, `deleted`, or a full action such as `patient.created`. */
  actionType?: string;
  entityType?: string;
  /** In the entity and user names. */
  search?: string;
  page: number;
  limit: number;
}

/** A date alone means the whole day: `to=2025-01-31` includes the 31st. */
function bound(value: string, end: boolean): Date {
  if (value.length > 10) return new Date(value);
  const day = new Date(`${value}T00:00:00.000Z`);
  return end ? new Date(day.getTime() + 86_400_000) : day;
}

/** One page of who changed what in the organization, newest first, with the number of matches. */
export async function listActivity(
  db: Kysely<Database>,
  { from, to, userId, actionType, entityType, search, page, limit }: ActivityFilter,
): Promise<{ rows: ActivityLogRow[]; total: number }> {
  let query = db.selectFrom('medreport.activity_log');
  if (from) query = query.where('created_at', '>=', bound(from, false));
  if (to) query = query.where('created_at', to.length > 10 ? '<=' : '<', bound(to, true));
  if (userId) query = query.where('user_id', '=', userId);
  if (actionType) {
    query = actionType.includes('.')
      ? query.where('action', '=', actionType)
      : query.where('action', 'like', sql<string>`'%.' || ${likeLiteral(actionType)}`);
  }
  if (entityType) query = query.where('entity_type', '=', entityType);
  if (search) {
    const pattern = containing(search);
    query = query.where((eb) => eb.or([eb('entity_name', 'ilike', pattern), eb('user_name', 'ilike', pattern)]));
  }
  return paginate<ActivityLogRow>(query.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc'), {
    page,
    limit,
  });
}
